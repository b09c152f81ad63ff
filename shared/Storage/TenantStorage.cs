using Azure.Storage.Blobs;
using Lepton.Errors;
using Lepton.Tenancy;

namespace Lepton.Storage;

/// <summary>The containers of one tenant's account. Obtained only through <see cref="TenantStorageFactory"/>, by tenant id.</summary>
public sealed class TenantStorage(Tenant tenant, BlobServiceClient service)
{
    public Tenant Tenant { get; } = tenant;

    public BlobContainerClient Ingest => service.GetBlobContainerClient(BlobLayout.IngestContainer);

    public BlobContainerClient Curated => service.GetBlobContainerClient(BlobLayout.CuratedContainer);

    public BlobContainerClient Rejected => service.GetBlobContainerClient(BlobLayout.RejectedContainer);

    public BlobContainerClient Predictions => service.GetBlobContainerClient(BlobLayout.PredictionsContainer);

    public BlobServiceClient Service => service;
}

/// <summary>Resolves a tenant's storage through the registry: code acting for a tenant never names an account itself.</summary>
public sealed class TenantStorageFactory(TenantRegistry registry, StorageClients clients, Microsoft.Extensions.Options.IOptions<Configuration.StorageOptions> options)
{
    private static readonly object LogGate = new();

    public async Task<TenantStorage> ForTenantAsync(string tenantId, CancellationToken ct = default)
    {
        Tenant tenant = await registry.FindAsync(tenantId, ct) ?? throw LeptonException.NotFound("No such resource.");
        if (options.Value.AccessLogPath is { Length: > 0 } log)
        {
            lock (LogGate)
            {
                File.AppendAllText(log, $"{StorageAccess.Scope ?? "-"}\t{tenant.Id}\t{tenant.StorageAccount}\n");
            }
        }

        return new TenantStorage(tenant, clients.TenantBlobService(tenant.StorageAccount));
    }
}

/// <summary>
/// Declares, for the code that follows in this async flow, the operation and the tenant it acts for (a member's
/// federated activity). Only the storage access record reads it; it grants nothing.
/// </summary>
public static class StorageAccess
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? Scope => Current.Value;

    public static IDisposable ActingFor(string operation, string tenant)
    {
        string? previous = Current.Value;
        Current.Value = $"{operation}:{tenant}";
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
