using Azure;
using Azure.Data.Tables;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Storage;
using Lepton.Tenancy;

namespace Lepton.Security;

public static class Purposes
{
    public const string Train = "train";
    public const string Evaluate = "evaluate";

    public static IReadOnlyList<string> All { get; } = [Train, Evaluate];
}

public sealed record Grant(
    string GrantId,
    string Owner,
    string Dataset,
    string Grantee,
    IReadOnlyList<string> Purposes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    bool Revoked)
{
    public bool Allows(string purpose, DateTimeOffset now) =>
        !Revoked && (ExpiresAt is null || ExpiresAt > now) && Purposes.Contains(purpose);
}

/// <summary>
/// Purpose-limited grants on a dataset, owned by the dataset's tenant (one table partition per owner). A grant never
/// lets anyone read rows through the API; it lets platform activities use the data for the stated purpose.
/// </summary>
public sealed class GrantStore(StorageClients storage, TenantRegistry tenants, AuditLog audit, TimeProvider time)
{
    internal const string TableName = "grants";

    private TableClient Grants => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Grants.CreateIfNotExistsAsync(ct);

    public async Task<Grant> CreateAsync(string owner, string dataset, string? grantee, IReadOnlyList<string>? purposes, DateTimeOffset? expiresAt, string actor, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(dataset))
        {
            throw LeptonException.NotFound($"Dataset '{dataset}' was not found.");
        }

        if (purposes is null || purposes.Count == 0 || purposes.Any(p => !Purposes.All.Contains(p)))
        {
            throw LeptonException.BadRequest($"'purposes' must name one or more of: {string.Join(", ", Purposes.All)}.");
        }

        if (string.IsNullOrWhiteSpace(grantee) || grantee == owner || await tenants.FindAsync(grantee, ct) is null)
        {
            throw LeptonException.BadRequest("'grantee' must be the id of another tenant.");
        }

        DateTimeOffset now = time.GetUtcNow();
        if (expiresAt is { } expiry && expiry <= now)
        {
            throw LeptonException.BadRequest("'expiresAt' must be in the future.");
        }

        var grant = new Grant("g-" + Guid.NewGuid().ToString("N")[..16], owner, dataset, grantee, purposes.Distinct().ToList(), now, expiresAt, false);
        await Grants.AddEntityAsync(new TableEntity(owner, grant.GrantId)
        {
            ["Dataset"] = dataset,
            ["Grantee"] = grantee,
            ["Purposes"] = string.Join(',', grant.Purposes),
            ["CreatedAt"] = now,
            ["ExpiresAt"] = expiresAt,
            ["Revoked"] = false,
        }, ct);
        await AuditBothAsync(grant, actor, "grant.created", ct);
        return grant;
    }

    public async Task<IReadOnlyList<Grant>> ListAsync(string owner, string dataset, CancellationToken ct = default)
    {
        var grants = new List<Grant>();
        await foreach (TableEntity e in Grants.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {owner} and Dataset eq {dataset}"), cancellationToken: ct))
        {
            grants.Add(ToGrant(e));
        }

        return grants.OrderBy(g => g.CreatedAt).ToList();
    }

    public async Task<Grant> RevokeAsync(string owner, string dataset, string grantId, string actor, CancellationToken ct = default)
    {
        NullableResponse<TableEntity> row = grantId.StartsWith("g-", StringComparison.Ordinal) && grantId.Length <= 40
            ? await Grants.GetEntityIfExistsAsync<TableEntity>(owner, grantId, cancellationToken: ct)
            : null!;
        if (row is null || !row.HasValue || row.Value!.GetString("Dataset") != dataset)
        {
            throw LeptonException.NotFound($"Grant '{grantId}' was not found.");
        }

        TableEntity e = row.Value;
        e["Revoked"] = true;
        e["RevokedAt"] = time.GetUtcNow();
        await Grants.UpdateEntityAsync(e, e.ETag, TableUpdateMode.Merge, ct);
        Grant revoked = ToGrant(e);
        await AuditBothAsync(revoked, actor, "grant.revoked", ct);
        return revoked;
    }

    /// <summary>A grant that allows the grantee to use the dataset for the purpose now, if any.</summary>
    public async Task<Grant?> FindActiveAsync(string owner, string dataset, string grantee, string purpose, CancellationToken ct = default)
    {
        DateTimeOffset now = time.GetUtcNow();
        await foreach (TableEntity e in Grants.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {owner} and Dataset eq {dataset} and Grantee eq {grantee} and Revoked eq false"), cancellationToken: ct))
        {
            Grant grant = ToGrant(e);
            if (grant.Allows(purpose, now))
            {
                return grant;
            }
        }

        return null;
    }

    /// <summary>A grant concerns its owner and its grantee: both chains record it.</summary>
    private async Task AuditBothAsync(Grant grant, string actor, string action, CancellationToken ct)
    {
        string resource = $"{grant.Owner}/datasets/{grant.Dataset}/grants/{grant.GrantId}";
        string outcome = $"grantee {grant.Grantee}";
        string purposes = string.Join(',', grant.Purposes);
        await audit.AppendAsync(grant.Owner, actor, action, resource, outcome, purposes, ct);
        await audit.AppendAsync(grant.Grantee, actor, action, resource, outcome, purposes, ct);
    }

    private static Grant ToGrant(TableEntity e) => new(
        e.RowKey,
        e.PartitionKey,
        e.GetString("Dataset") ?? "",
        e.GetString("Grantee") ?? "",
        (e.GetString("Purposes") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        e.GetDateTimeOffset("CreatedAt") ?? default,
        e.GetDateTimeOffset("ExpiresAt"),
        e.GetBoolean("Revoked") ?? false);
}
