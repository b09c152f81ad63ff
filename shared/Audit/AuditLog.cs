using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lepton.Storage;

namespace Lepton.Audit;

public sealed record AuditEntry(
    long Seq,
    DateTimeOffset Time,
    string Actor,
    string Action,
    string Resource,
    string? Purpose,
    string Outcome,
    string PrevHash,
    string Hash);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextSeq);

public sealed record AuditVerification(bool Valid, long Entries, long? FirstBrokenSeq, string? Problem);

/// <summary>
/// A tamper-evident log per tenant: JSON lines in an append blob of the platform account, each entry carrying the
/// SHA-256 of its fields and of the entry before it. Appends are conditional on the blob's current length, so two
/// writers (threads or instances) can never fork the chain or lose an entry: the loser re-reads the tail and retries.
/// </summary>
public sealed class AuditLog(StorageClients storage, TimeProvider time)
{
    public const string Container = "audit";
    public static readonly string GenesisHash = new('0', 64);
    private const int TailBytes = 16 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(Container);

    public Task EnsureContainerAsync(CancellationToken ct = default) => Blobs.CreateIfNotExistsAsync(cancellationToken: ct);

    public static string BlobName(string tenant) => $"{tenant}.ndjson";

    public async Task<AuditEntry> AppendAsync(string tenant, string actor, string action, string resource, string outcome, string? purpose = null, CancellationToken ct = default)
    {
        AppendBlobClient blob = Blobs.GetAppendBlobClient(BlobName(tenant));
        SemaphoreSlim gate = _locks.GetOrAdd(tenant, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await blob.CreateIfNotExistsAsync(cancellationToken: ct);
            while (true)
            {
                long length = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value.ContentLength;
                AuditEntry? last = await ReadLastAsync(blob, length, ct);
                var unsigned = new AuditEntry(
                    (last?.Seq ?? 0) + 1, time.GetUtcNow(), actor, action, resource, purpose, outcome, last?.Hash ?? GenesisHash, "");
                AuditEntry entry = unsigned with { Hash = ComputeHash(unsigned) };
                byte[] line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, Json) + "\n");
                try
                {
                    using var content = new MemoryStream(line);
                    await blob.AppendBlockAsync(content, new AppendBlobAppendBlockOptions
                    {
                        Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = length },
                    }, ct);
                    return entry;
                }
                catch (RequestFailedException e) when (e.Status == 412)
                {
                    // Another instance appended first; chain onto its entry.
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<AuditPage> ReadAsync(string tenant, long fromSeq, int max, CancellationToken ct = default)
    {
        var entries = new List<AuditEntry>();
        long? next = null;
        await foreach ((AuditEntry? entry, _) in LinesAsync(tenant, ct))
        {
            if (entry is null || entry.Seq < fromSeq)
            {
                continue;
            }

            if (entries.Count == max)
            {
                next = entry.Seq;
                break;
            }

            entries.Add(entry);
        }

        return new AuditPage(entries, next);
    }

    /// <summary>Recomputes the chain; names the first entry that was altered, removed or inserted.</summary>
    public async Task<AuditVerification> VerifyAsync(string tenant, CancellationToken ct = default)
    {
        long expectedSeq = 1;
        string previous = GenesisHash;
        await foreach ((AuditEntry? entry, int line) in LinesAsync(tenant, ct))
        {
            if (entry is null)
            {
                return new AuditVerification(false, expectedSeq - 1, expectedSeq, $"line {line} is not a valid entry");
            }

            if (entry.Seq != expectedSeq)
            {
                return new AuditVerification(false, expectedSeq - 1, expectedSeq,
                    entry.Seq > expectedSeq ? $"entry {expectedSeq} is missing (found {entry.Seq} next)" : $"entry {entry.Seq} appears out of order");
            }

            if (entry.PrevHash != previous)
            {
                return new AuditVerification(false, expectedSeq - 1, entry.Seq, $"entry {entry.Seq} does not link to the entry before it");
            }

            if (entry.Hash != ComputeHash(entry))
            {
                return new AuditVerification(false, expectedSeq - 1, entry.Seq, $"entry {entry.Seq} was altered: its hash does not match its content");
            }

            previous = entry.Hash;
            expectedSeq++;
        }

        return new AuditVerification(true, expectedSeq - 1, null, null);
    }

    public static string ComputeHash(AuditEntry e)
    {
        string canonical = string.Join('\u001F', e.Seq, e.Time.UtcDateTime.ToString("O"), e.Actor, e.Action, e.Resource, e.Purpose ?? "", e.Outcome, e.PrevHash);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private async IAsyncEnumerable<(AuditEntry? Entry, int Line)> LinesAsync(string tenant, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        BlobClient blob = Blobs.GetBlobClient(BlobName(tenant));
        Stream stream;
        try
        {
            stream = await blob.OpenReadAsync(cancellationToken: ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            yield break;
        }

        await using (stream)
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            int number = 0;
            while (await reader.ReadLineAsync(ct) is { } text)
            {
                number++;
                if (text.Length > 0)
                {
                    yield return (Parse(text), number);
                }
            }
        }
    }

    private static async Task<AuditEntry?> ReadLastAsync(AppendBlobClient blob, long length, CancellationToken ct)
    {
        if (length == 0)
        {
            return null;
        }

        long start = Math.Max(0, length - TailBytes);
        BlobDownloadResult tail = (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(start, length - start) }, ct)).Value;
        string text = tail.Content.ToString();
        string lastLine = text.TrimEnd('\n').Split('\n')[^1];
        return Parse(lastLine) ?? throw new InvalidDataException($"The audit log {blob.Name} ends with an unreadable entry; verify it.");
    }

    private static AuditEntry? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<AuditEntry>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
