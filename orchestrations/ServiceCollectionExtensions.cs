using Lepton.Orchestrations.Ingestion;
using Lepton.Orchestrations.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Orchestrations;

public static class ServiceCollectionExtensions
{
    /// <summary>Activities and the services that start and read runs.</summary>
    public static IServiceCollection AddLeptonOrchestrations(this IServiceCollection services)
    {
        services.AddSingleton<AnalyzeSource>();
        services.AddSingleton<CleanSource>();
        services.AddSingleton<PublishDatasetVersion>();
        services.AddSingleton<RejectSource>();
        services.AddSingleton<IngestStarter>();
        services.AddSingleton<RunQueries>();
        return services;
    }
}
