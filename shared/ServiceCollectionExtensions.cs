using Lepton.Audit;
using Lepton.Configuration;
using Lepton.Datasets;
using Lepton.Ingestion;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Tenancy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lepton;

public static class ServiceCollectionExtensions
{
    /// <summary>The hosting-agnostic core: options, storage, registry, security, ingestion.</summary>
    public static IServiceCollection AddLeptonCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<LeptonOptions>(configuration.GetSection(LeptonOptions.SectionName));
        services.Configure<StorageOptions>(configuration.GetSection(StorageOptions.SectionName));
        services.Configure<IngestionOptions>(configuration.GetSection(IngestionOptions.SectionName));
        services.Configure<RateLimitOptions>(configuration.GetSection(RateLimitOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StorageClients>();
        services.AddSingleton<TenantRegistry>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<TenantStorageFactory>();
        services.AddSingleton<UploadUrlIssuer>();
        services.AddSingleton<DatasetCatalog>();
        services.AddSingleton<DatasetQueries>();
        services.AddSingleton<GrantStore>();
        services.AddSingleton<Collaborations.CollaborationStore>();
        services.AddSingleton<Collaborations.CollaborationData>();
        services.AddSingleton<Collaborations.CollaborationRows>();
        services.AddSingleton<Collaborations.PooledTraining>();
        services.AddSingleton<Collaborations.CollaborationLifecycle>();
        services.AddSingleton<Collaborations.CollaborationLedger>();
        services.AddSingleton<Collaborations.Contributions.ContributionService>();
        services.AddSingleton<Federated.FederatedService>();
        services.AddSingleton<IGrantDependents, Collaborations.GrantRevocations>();
        services.AddSingleton<AuditLog>();
        services.Configure<AuditOptions>(configuration.GetSection(AuditOptions.SectionName));
        services.AddSingleton<UsageMeter>();
        services.Configure<SecurityOptions>(configuration.GetSection(SecurityOptions.SectionName));
        services.AddSingleton<CallerCache>();
        services.AddSingleton<AccessPolicy>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<Training.ModelRegistry>();
        services.AddSingleton<Training.TrainingService>();
        services.AddSingleton<Training.OnlineTraining>();
        services.Configure<Prediction.PredictionOptions>(configuration.GetSection(Prediction.PredictionOptions.SectionName));
        services.AddSingleton<Prediction.IModelArtifacts>(sp => sp.GetRequiredService<Training.ModelRegistry>());
        services.AddSingleton<Prediction.ModelSessionCache>();
        services.AddSingleton<Prediction.PredictionService>();
        services.AddSingleton<Prediction.ExternalModels>();
        services.AddSingleton<Prediction.BatchScoring>();
        services.AddSingleton<PlatformBootstrap>();
        return services;
    }
}
