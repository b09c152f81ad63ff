using Azure;
using Azure.Data.Tables;
using Lepton.Storage;
using Microsoft.Extensions.Logging;

namespace Lepton.Audit;

/// <summary>An audit entry a state change owes: appended to each tenant's chain under one idempotency key.</summary>
public sealed record PendingAuditEntry(IReadOnlyList<string> Tenants, string Actor, string Action, string Resource, string Outcome, string? Purpose = null)
{
    /// <summary>Unique per change, so delivering the entry twice (the request, then a sweep) appends it once per chain.</summary>
    public string Key { get; init; } = Guid.NewGuid().ToString("N");
}

/// <summary>
/// A transactional outbox for the audit log. A state change kept in a platform table (a key, a grant, a tenant, a
/// collaboration) is committed in one table transaction together with a row that promises its audit entry, in the same
/// partition; the entry is then appended and the promise deleted. A crash or a storage failure between the commit and
/// the append leaves the promise, and <see cref="DeliverPendingAsync"/> (run periodically) appends the entry then:
/// no change without its entry, and no entry for a change that did not commit.
/// </summary>
public sealed partial class AuditOutbox(AuditLog audit, StorageClients storage, TimeProvider time, ILogger<AuditOutbox> logger)
{
    /// <summary>Row keys of promises; '~' sorts after every id the tables use, and ids never start with it.</summary>
    public const string RowPrefix = "~audit-";

    /// <summary>The tables whose changes go through the outbox.</summary>
    public static IReadOnlyList<string> Tables { get; } =
        [Tenancy.ApiKeyStore.TableName, Security.GrantStore.TableName, Tenancy.TenantRegistry.TenantsTable, Collaborations.CollaborationStore.TableName];

    public static bool IsPromise(TableEntity row) => row.RowKey.StartsWith(RowPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Commits <paramref name="change"/> (actions on one partition of <paramref name="table"/>) with the promise of
    /// <paramref name="entry"/>, then delivers it. A delivery that fails is left to the sweep: the change stands, so the
    /// caller is told it succeeded.
    /// </summary>
    public async Task CommitAsync(TableClient table, string partitionKey, IEnumerable<TableTransactionAction> change, PendingAuditEntry entry, CancellationToken ct)
    {
        List<TableTransactionAction> actions = [.. change, new TableTransactionAction(TableTransactionActionType.Add, ToEntity(partitionKey, entry))];
        // A failed change throws TableTransactionFailedException, a RequestFailedException with the failing action's
        // status (409, 412): callers handle it as they would the single operation.
        await table.SubmitTransactionAsync(actions, ct);

        try
        {
            await DeliverAsync(table, partitionKey, entry, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogDeliveryDeferred(e, entry.Action, entry.Resource);
        }
    }

    /// <summary>Delivers the promises older than <paramref name="olderThan"/> (younger ones belong to requests still running).</summary>
    /// <returns>How many were delivered.</returns>
    public async Task<int> DeliverPendingAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        DateTimeOffset before = time.GetUtcNow() - olderThan;
        int delivered = 0;
        foreach (string name in Tables)
        {
            TableClient table = storage.PlatformTable(name);
            string filter = TableClient.CreateQueryFilter($"RowKey ge {RowPrefix} and RowKey lt {RowPrefix[..^1] + "."} and Timestamp le {before}");
            try
            {
                await foreach (TableEntity row in table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
                {
                    await DeliverAsync(table, row.PartitionKey, FromEntity(row), ct);
                    delivered++;
                }
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // The table does not exist yet: nothing was promised in it.
            }
        }

        return delivered;
    }

    private async Task DeliverAsync(TableClient table, string partitionKey, PendingAuditEntry entry, CancellationToken ct)
    {
        foreach (string tenant in entry.Tenants.Distinct(StringComparer.Ordinal))
        {
            await audit.AppendAsync(tenant, entry.Actor, entry.Action, entry.Resource, entry.Outcome, entry.Purpose, ct, idempotencyKey: entry.Key);
        }

        try
        {
            await table.DeleteEntityAsync(partitionKey, RowPrefix + entry.Key, ETag.All, ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Another instance delivered it at the same time.
        }
    }

    private static TableEntity ToEntity(string partitionKey, PendingAuditEntry entry) => new(partitionKey, RowPrefix + entry.Key)
    {
        ["AuditTenants"] = string.Join('\n', entry.Tenants),
        ["AuditActor"] = entry.Actor,
        ["AuditAction"] = entry.Action,
        ["AuditResource"] = entry.Resource,
        ["AuditOutcome"] = entry.Outcome,
        ["AuditPurpose"] = entry.Purpose,
    };

    private static PendingAuditEntry FromEntity(TableEntity row) => new(
        (row.GetString("AuditTenants") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries),
        row.GetString("AuditActor") ?? "",
        row.GetString("AuditAction") ?? "",
        row.GetString("AuditResource") ?? "",
        row.GetString("AuditOutcome") ?? "",
        row.GetString("AuditPurpose"))
    {
        Key = row.RowKey[RowPrefix.Length..],
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The audit entry {Action} for {Resource} could not be appended yet; the outbox sweep appends it")]
    private partial void LogDeliveryDeferred(Exception e, string action, string resource);
}
