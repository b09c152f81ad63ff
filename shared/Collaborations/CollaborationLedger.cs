using Lepton.Audit;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lepton.Collaborations.Contributions;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Collaborations;

/// <summary>One member's line: its metered use of the collaboration's models, what that cost, and its allocation.</summary>
public sealed record LedgerLine(string Member, long Requests, long Predictions, double CreditsCharged, double Share, double CreditsAllocated, double Net);

/// <summary>
/// Metered predictions per calling member over [from, to); credits charged under creditsPerThousandPredictions; the pool of
/// credits allocated by the shares of the latest contribution report.
/// </summary>
public sealed record Ledger(
    string Collaboration,
    DateTimeOffset From,
    DateTimeOffset To,
    double CreditsPerThousandPredictions,
    string? ContributionReport,
    string? AllocationMethod,
    long Predictions,
    double Credits,
    IReadOnlyList<LedgerLine> Members);

/// <summary>An immutable statement of one closed period.</summary>
public sealed record Settlement(string Collaboration, string Period, Ledger Ledger, DateTimeOffset SettledAt, string SettledBy);

/// <summary>Usage of collaboration models (written by the usage meter), the ledger over it, and settlements per period.</summary>
public sealed class CollaborationLedger(StorageClients storage, CollaborationStore collaborations, ContributionService contributions, TimeProvider time)
{
    internal const string UsageTable = "collaborationusage";

    private TableClient Usage => storage.PlatformTable(UsageTable);

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(ContributionService.Container);

    public Task EnsureTableAsync(CancellationToken ct = default) => Usage.CreateIfNotExistsAsync(ct);

    /// <summary>Appends one metered interval; rows are keyed by time, so the ledger reads a range.</summary>
    public Task RecordUsageAsync(string collaboration, string member, string model, long requests, long predictions, DateTimeOffset at, CancellationToken ct = default) =>
        Usage.AddEntityAsync(new TableEntity(collaboration, $"{at.UtcTicks:D19}|{member}|{Guid.NewGuid():N}")
        {
            ["Member"] = member, ["Model"] = model, ["Requests"] = requests, ["Predictions"] = predictions, ["At"] = at,
        }, ct);

    public async Task<Ledger> GetAsync(Collaboration c, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct = default)
    {
        DateTimeOffset end = to ?? time.GetUtcNow();
        DateTimeOffset start = from ?? c.CreatedAt;
        if (start > end)
        {
            throw LeptonException.BadRequest("'from' must not be after 'to'.");
        }

        var usage = new Dictionary<string, (long Requests, long Predictions)>();
        string low = $"{start.UtcTicks:D19}", high = $"{end.UtcTicks:D19}";
        await foreach (TableEntity row in Usage.QueryAsync<TableEntity>(
            e => e.PartitionKey == c.Id && e.RowKey.CompareTo(low) >= 0 && e.RowKey.CompareTo(high) < 0, cancellationToken: ct))
        {
            string member = row.GetString("Member") ?? "";
            (long requests, long predictions) = usage.GetValueOrDefault(member);
            usage[member] = (requests + (row.GetInt64("Requests") ?? 0), predictions + (row.GetInt64("Predictions") ?? 0));
        }

        ContributionReport? report = await contributions.LatestAsync(c.Id, ct);
        double rate = c.Terms.CreditsPerThousandPredictions;
        long total = usage.Values.Sum(u => u.Predictions);
        double pool = total / 1000.0 * rate;
        var lines = c.Members.Select(m => m.Tenant).Union(usage.Keys).Select(member =>
        {
            (long requests, long predictions) = usage.GetValueOrDefault(member);
            double share = report?.Members.FirstOrDefault(x => x.Member == member)?.Share ?? 0;
            double charged = predictions / 1000.0 * rate;
            double allocated = pool * share / 100;
            return new LedgerLine(member, requests, predictions, charged, share, allocated, allocated - charged);
        }).ToList();
        return new Ledger(c.Id, start, end, rate, report?.Id, report?.Method, total, pool, lines);
    }

    /// <summary>Settles a closed period once: the first call writes the statement, later calls return it unchanged.</summary>
    public async Task<(Settlement Settlement, bool Created)> SettleAsync(Collaboration c, string? period, string actor, CancellationToken ct = default)
    {
        (DateTimeOffset from, DateTimeOffset to) = ParsePeriod(period);
        if (to > time.GetUtcNow())
        {
            throw LeptonException.Conflict($"Period {period} ends at {to:O}; it can be settled once it is over.");
        }

        BlobClient blob = Blobs.GetBlobClient($"{c.Id}/settlements/{period}.json");
        var settlement = new Settlement(c.Id, period!, await GetAsync(c, from, to, ct), time.GetUtcNow(), actor);
        byte[] content = JsonSerializer.SerializeToUtf8Bytes(settlement, LeptonJson.Options);
        try
        {
            await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return ((await blob.DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<Settlement>(LeptonJson.Options)!, false);
        }

        await collaborations.AuditMembersAsync(c, actor, AuditActions.CollaborationSettled, $"period {period}: sha256 {Convert.ToHexStringLower(SHA256.HashData(content))}",
            ct, resource: $"collaborations/{c.Id}/settlements/{period}");
        return (settlement, true);
    }

    /// <summary>"2026-11" (a month) or "2026-11-24" (a day), in UTC.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) ParsePeriod(string? period)
    {
        if (period is { Length: 7 } && DateTimeOffset.TryParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset month))
        {
            return (month, month.AddMonths(1));
        }

        if (period is { Length: 10 } && DateTimeOffset.TryParseExact(period, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset day))
        {
            return (day, day.AddDays(1));
        }

        throw LeptonException.BadRequest("'period' must be a month (\"2026-11\") or a day (\"2026-11-24\"), in UTC.");
    }
}
