using Azure;
using Azure.Data.Tables;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Tenancy;

/// <summary>
/// Tenants and their storage accounts, in the platform account's tables. The registry is the only map
/// from a tenant to its account and back, so it decides whose data an event or a request may touch.
/// </summary>
public sealed class TenantRegistry(StorageClients storage, AuditOutbox outbox, Security.CallerCache callers, TimeProvider time)
{
    internal const string TenantsTable = "tenants";
    internal const string AccountsTable = "tenantaccounts";
    private const string Partition = "tenant";

    private TableClient Tenants => storage.PlatformTable(TenantsTable);

    private TableClient Accounts => storage.PlatformTable(AccountsTable);

    public async Task EnsureTablesAsync(CancellationToken ct = default)
    {
        await Tenants.CreateIfNotExistsAsync(ct);
        await Accounts.CreateIfNotExistsAsync(ct);
    }

    public async Task<Tenant?> FindAsync(string id, CancellationToken ct = default)
    {
        if (!TenantIds.IsValid(id))
        {
            return null;
        }

        NullableResponse<TableEntity> row = await Tenants.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
        return row.HasValue ? ToTenant(row.Value!) : null;
    }

    public async Task<Tenant?> FindByAccountAsync(string account, CancellationToken ct = default)
    {
        NullableResponse<TableEntity> claim = await Accounts.GetEntityIfExistsAsync<TableEntity>(Partition, account, cancellationToken: ct);
        return claim.HasValue ? await FindAsync(claim.Value!.GetString("Tenant"), ct) : null;
    }

    public async Task<IReadOnlyList<Tenant>> ListAsync(CancellationToken ct = default)
    {
        var tenants = new List<Tenant>();
        await foreach (TableEntity row in Tenants.QueryAsync<TableEntity>(e => e.PartitionKey == Partition, cancellationToken: ct))
        {
            if (!AuditOutbox.IsPromise(row))
            {
                tenants.Add(ToTenant(row));
            }
        }

        return tenants;
    }

    /// <summary>Registers a tenant, links it to a free account of the pool and creates its containers.</summary>
    public async Task<Tenant> CreateAsync(string id, string name, string actor, CancellationToken ct = default)
    {
        if (!TenantIds.IsValid(id))
        {
            throw LeptonException.BadRequest(TenantIds.IsReserved(id ?? "")
                ? $"Tenant id '{id}' is reserved."
                : $"Tenant id '{id}' is not valid: use {TenantIds.Rule}.");
        }

        if (!Names.IsValidDisplayName(name))
        {
            throw LeptonException.BadRequest($"Tenant name is required: {Names.DisplayNameRule}.");
        }

        if (await FindAsync(id, ct) is not null)
        {
            throw LeptonException.Conflict($"Tenant '{id}' already exists.");
        }

        string account = await ClaimAccountAsync(id, ct);
        var tenant = new Tenant(id, name.Trim(), account, time.GetUtcNow(), Disabled: false);
        // The containers come first: once the row commits, its entry is promised and the tenant is usable.
        // In Azure the deployment already made them; locally the pool accounts start empty.
        foreach (string container in BlobLayout.TenantContainers)
        {
            await storage.TenantContainer(account, container).CreateIfNotExistsAsync(cancellationToken: ct);
        }

        try
        {
            await outbox.CommitAsync(Tenants, Partition, [new TableTransactionAction(TableTransactionActionType.Add, ToEntity(tenant))],
                new PendingAuditEntry([id], actor, AuditActions.TenantCreated, $"tenants/{id}", $"storage account {account}"), ct);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await Accounts.DeleteEntityAsync(Partition, account, cancellationToken: ct);
            throw LeptonException.Conflict($"Tenant '{id}' already exists.");
        }

        return tenant;
    }

    /// <summary>Disables or re-enables a tenant; its keys stop (or resume) working with the next request.</summary>
    public async Task<Tenant> SetDisabledAsync(string id, bool disabled, string actor, CancellationToken ct = default)
    {
        Tenant tenant = await FindAsync(id, ct) ?? throw LeptonException.NotFound($"Tenant '{id}' was not found.");
        await outbox.CommitAsync(Tenants, Partition,
            [new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(Partition, id) { ["Disabled"] = disabled }, ETag.All)],
            new PendingAuditEntry([id], actor, disabled ? AuditActions.TenantDisabled : AuditActions.TenantEnabled, $"tenants/{id}", "done"), ct);
        callers.Clear();
        return tenant with { Disabled = disabled };
    }

    private async Task<string> ClaimAccountAsync(string tenantId, CancellationToken ct)
    {
        foreach (string account in storage.TenantAccountPool.Order(StringComparer.Ordinal))
        {
            try
            {
                // Insert fails if another tenant holds the account: the table row is the lock.
                await Accounts.AddEntityAsync(new TableEntity(Partition, account) { ["Tenant"] = tenantId }, ct);
                return account;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
            }
        }

        throw LeptonException.Unavailable(
            "No storage account is free for a new tenant. Add accounts to the tenants parameter of the deployment (locally: start the dev host with more --tenant-accounts).");
    }

    private static TableEntity ToEntity(Tenant t) => new(Partition, t.Id)
    {
        ["Name"] = t.Name,
        ["StorageAccount"] = t.StorageAccount,
        ["CreatedAt"] = t.CreatedAt,
        ["Disabled"] = t.Disabled,
    };

    private static Tenant ToTenant(TableEntity e) => new(
        e.RowKey,
        e.GetString("Name") ?? e.RowKey,
        e.GetString("StorageAccount") ?? "",
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetBoolean("Disabled") ?? false);
}
