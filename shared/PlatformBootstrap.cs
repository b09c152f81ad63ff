using Lepton.Audit;
using Lepton.Datasets;
using Lepton.Security;
using Lepton.Tenancy;

namespace Lepton;

/// <summary>Creates the registry tables once at start-up, so requests never race to create them.</summary>
public sealed class PlatformBootstrap(
    TenantRegistry tenants, ApiKeyStore keys, DatasetCatalog catalog, GrantStore grants, AuditLog audit, Training.ModelRegistry models,
    Collaborations.CollaborationStore collaborations, Collaborations.CollaborationLedger ledger, Collaborations.Contributions.ContributionService contributions,
    Ingestion.IngestSlots ingestSlots, Runs.StepAttempts stepAttempts)
{
    public async Task EnsureCreatedAsync(CancellationToken ct = default)
    {
        await tenants.EnsureTablesAsync(ct);
        await keys.EnsureTableAsync(ct);
        await catalog.EnsureTableAsync(ct);
        await grants.EnsureTableAsync(ct);
        await audit.EnsureContainerAsync(ct);
        await models.EnsureCreatedAsync(ct);
        await collaborations.EnsureTableAsync(ct);
        await ledger.EnsureTableAsync(ct);
        await contributions.EnsureCreatedAsync(ct);
        await ingestSlots.EnsureTableAsync(ct);
        await stepAttempts.EnsureTableAsync(ct);
    }
}
