using Lepton.Api;
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

/// <summary>
/// A purpose-limited grant on a dataset to another tenant (<see cref="Grantee"/>) or to a collaboration
/// (<see cref="Collaboration"/>), never both. <see cref="RevokeModels"/>: revoking it also stops the predictions of every
/// model version trained on the data.
/// </summary>
/// <summary>What depends on grants (model versions trained on granted data): told of every revocation, at once.</summary>
public interface IGrantDependents
{
    Task GrantRevokedAsync(Grant grant, string actor, CancellationToken ct);
}

/// <summary>The body of POST .../grants.</summary>

public sealed record Grant(
    string GrantId,
    string Owner,
    string Dataset,
    string? Grantee,
    IReadOnlyList<string> Purposes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    bool Revoked,
    string? Collaboration = null,
    bool RevokeModels = false)
{
    public bool Allows(string purpose, DateTimeOffset now) =>
        !Revoked && (ExpiresAt is null || ExpiresAt > now) && Purposes.Contains(purpose);
}

/// <summary>
/// Purpose-limited grants on a dataset, owned by the dataset's tenant (one table partition per owner). A grant never
/// lets anyone read rows through the API; it lets platform activities use the data for the stated purpose.
/// </summary>
public sealed class GrantStore(
    StorageClients storage, TenantRegistry tenants, Datasets.DatasetCatalog catalog, Collaborations.CollaborationStore collaborations,
    IEnumerable<IGrantDependents> dependents, AuditOutbox outbox, TimeProvider time)
{
    internal const string TableName = "grants";

    private TableClient Grants => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Grants.CreateIfNotExistsAsync(ct);

    public async Task<Grant> CreateAsync(string owner, string dataset, GrantRequest request, string actor, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(dataset) || (await catalog.ListVersionsAsync(owner, dataset, ct)).Count == 0)
        {
            throw LeptonException.NotFound($"Dataset '{dataset}' was not found (or has no published version yet).");
        }

        if (request.Purposes is not { Count: > 0 } purposes || purposes.Any(p => !Purposes.All.Contains(p)))
        {
            throw LeptonException.BadRequest($"'purposes' must name one or more of: {string.Join(", ", Purposes.All)}.");
        }

        if ((request.Grantee is null) == (request.Collaboration is null))
        {
            throw LeptonException.BadRequest("Name either 'grantee' (another tenant) or 'collaboration' (one you are a member of), not both.");
        }

        if (request.Grantee is { } grantee && (grantee == owner || await tenants.FindAsync(grantee, ct) is not { Disabled: false }))
        {
            throw LeptonException.BadRequest("'grantee' must be the id of another, active tenant.");
        }

        if (request.Collaboration is { } collaboration && (await collaborations.FindAsync(collaboration, ct))?.IsMember(owner) != true)
        {
            throw LeptonException.BadRequest("'collaboration' must name a collaboration this tenant is a member of.");
        }

        DateTimeOffset now = time.GetUtcNow();
        if (request.ExpiresAt is { } expiry && expiry <= now)
        {
            throw LeptonException.BadRequest("'expiresAt' must be in the future.");
        }

        var grant = new Grant("g-" + Guid.NewGuid().ToString("N")[..16], owner, dataset, request.Grantee, purposes.Distinct().ToList(), now, request.ExpiresAt,
            false, request.Collaboration, request.RevokeModels ?? false);
        var row = new TableEntity(owner, grant.GrantId)
        {
            ["Dataset"] = dataset,
            ["Grantee"] = grant.Grantee ?? "",
            ["Collaboration"] = grant.Collaboration ?? "",
            ["Purposes"] = string.Join(',', grant.Purposes),
            ["CreatedAt"] = now,
            ["ExpiresAt"] = request.ExpiresAt,
            ["Revoked"] = false,
            ["RevokeModels"] = grant.RevokeModels,
        };
        await CommitAsync(grant, new TableTransactionAction(TableTransactionActionType.Add, row), actor, AuditActions.GrantCreated, ct);
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
        Grant revoked = ToGrant(e);
        await CommitAsync(revoked, new TableTransactionAction(TableTransactionActionType.UpdateMerge, e, e.ETag), actor, AuditActions.GrantRevoked, ct);
        foreach (IGrantDependents dependent in dependents)
        {
            await dependent.GrantRevokedAsync(revoked, actor, ct);
        }

        return revoked;
    }

    /// <summary>A grant that allows the grantee to use the dataset for the purpose now, if any.</summary>
    public Task<Grant?> FindActiveAsync(string owner, string dataset, string grantee, string purpose, CancellationToken ct = default) =>
        FirstAllowingAsync(TableClient.CreateQueryFilter($"PartitionKey eq {owner} and Dataset eq {dataset} and Grantee eq {grantee} and Revoked eq false"), purpose, ct);

    /// <summary>A grant to the collaboration that allows using the member's dataset for the purpose now, if any.</summary>
    public Task<Grant?> FindActiveForCollaborationAsync(string owner, string dataset, string collaboration, string purpose, CancellationToken ct = default) =>
        FirstAllowingAsync(TableClient.CreateQueryFilter($"PartitionKey eq {owner} and Dataset eq {dataset} and Collaboration eq {collaboration} and Revoked eq false"), purpose, ct);

    private async Task<Grant?> FirstAllowingAsync(string filter, string purpose, CancellationToken ct)
    {
        DateTimeOffset now = time.GetUtcNow();
        await foreach (TableEntity e in Grants.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            Grant grant = ToGrant(e);
            if (grant.Allows(purpose, now))
            {
                return grant;
            }
        }

        return null;
    }

    /// <summary>A member's grants to a collaboration that are in force now (not revoked, not expired).</summary>
    public async Task<IReadOnlyList<Grant>> ListActiveForCollaborationAsync(string owner, string collaboration, CancellationToken ct = default)
    {
        DateTimeOffset now = time.GetUtcNow();
        var grants = new List<Grant>();
        await foreach (TableEntity e in Grants.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {owner} and Collaboration eq {collaboration} and Revoked eq false"), cancellationToken: ct))
        {
            Grant grant = ToGrant(e);
            if (grant.Purposes.Any(p => grant.Allows(p, now)))
            {
                grants.Add(grant);
            }
        }

        return grants.OrderBy(g => g.CreatedAt).ToList();
    }

    /// <summary>
    /// A tenant grant concerns its owner and its grantee: both chains record it. A collaboration grant (data contributed
    /// or withdrawn) concerns every member of the collaboration.
    /// </summary>
    private async Task CommitAsync(Grant grant, TableTransactionAction change, string actor, string action, CancellationToken ct)
    {
        string resource = $"{grant.Owner}/datasets/{grant.Dataset}/grants/{grant.GrantId}";
        string outcome = grant.Collaboration is { } c ? $"collaboration {c}" : $"grantee {grant.Grantee}";
        string purposes = string.Join(',', grant.Purposes);
        IReadOnlyList<string> chains = grant.Collaboration is { } collaboration
            ? (await collaborations.FindAsync(collaboration, ct))?.Members.Select(m => m.Tenant).ToList() ?? []
            : [grant.Grantee!];
        await outbox.CommitAsync(Grants, grant.Owner, [change], new PendingAuditEntry([.. chains.Prepend(grant.Owner)], actor, action, resource, outcome, purposes), ct);
    }

    private static Grant ToGrant(TableEntity e) => new(
        e.RowKey,
        e.PartitionKey,
        e.GetString("Dataset") ?? "",
        e.GetString("Grantee") is { Length: > 0 } grantee ? grantee : null,
        (e.GetString("Purposes") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        e.GetDateTimeOffset("CreatedAt") ?? default,
        e.GetDateTimeOffset("ExpiresAt"),
        e.GetBoolean("Revoked") ?? false,
        e.GetString("Collaboration") is { Length: > 0 } collaboration ? collaboration : null,
        e.GetBoolean("RevokeModels") ?? false);
}
