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
public sealed class TenantStorageFactory(TenantRegistry registry, StorageClients clients)
{
    public async Task<TenantStorage> ForTenantAsync(string tenantId, CancellationToken ct = default)
    {
        Tenant tenant = await registry.FindAsync(tenantId, ct) ?? throw LeptonException.NotFound("No such resource.");
        return new TenantStorage(tenant, clients.TenantBlobService(tenant.StorageAccount));
    }
}
