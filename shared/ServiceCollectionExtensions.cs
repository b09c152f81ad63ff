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
        services.AddValidatedOptions<LeptonOptions>(configuration, LeptonOptions.SectionName);
        services.AddValidatedOptions<StorageOptions>(configuration, StorageOptions.SectionName);
        services.AddValidatedOptions<IngestionOptions>(configuration, IngestionOptions.SectionName);
        services.AddValidatedOptions<RateLimitOptions>(configuration, RateLimitOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        StorageClients.Register(services, configuration);
        services.AddSingleton<StorageClients>();
        services.AddValidatedOptions<CacheOptions>(configuration, CacheOptions.SectionName);
        services.AddSingleton<LocalFileCache>();
        services.AddMemoryCache();
        services.AddOptions<Microsoft.Extensions.Caching.Memory.MemoryCacheOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<CacheOptions>>((memory, cache) => memory.SizeLimit = cache.Value.MaxEntries);
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
        services.AddSingleton<AuditOutbox>();
        services.AddSingleton<Ingestion.IngestSlots>();
        services.AddValidatedOptions<Runs.RunOptions>(configuration, Runs.RunOptions.SectionName);
        services.AddSingleton<Runs.StepAttempts>();
        services.AddValidatedOptions<AuditOptions>(configuration, AuditOptions.SectionName);
        services.AddSingleton<UsageMeter>();
        services.AddSingleton<AuditSigner>();
        services.AddSingleton<AuditTreeHeads>();
        services.AddValidatedOptions<SecurityOptions>(configuration, SecurityOptions.SectionName);
        services.AddSingleton<CallerCache>();
        services.AddSingleton<AccessPolicy>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<Training.ModelRegistry>();
        services.AddSingleton<Training.TrainingService>();
        services.AddSingleton<Training.OnlineTraining>();
        services.AddValidatedOptions<Training.HeavyTrainingOptions>(configuration, Training.HeavyTrainingOptions.SectionName);
        services.AddSingleton<Training.HeavyTrainingDispatcher>();
        services.AddValidatedOptions<Prediction.PredictionOptions>(configuration, Prediction.PredictionOptions.SectionName);
        services.AddSingleton<Prediction.IModelArtifacts>(sp => sp.GetRequiredService<Training.ModelRegistry>());
        services.AddSingleton<Prediction.ModelSessionCache>();
        services.AddSingleton<Prediction.PredictionService>();
        services.AddSingleton<Prediction.ExternalModels>();
        services.AddSingleton<Prediction.BatchScoring>();
        services.AddSingleton<PlatformBootstrap>();
        return services;
    }

    /// <summary>Binds a settings section and checks its data annotations when the host starts, so a bad value stops start-up with its name.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section) where T : class
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
