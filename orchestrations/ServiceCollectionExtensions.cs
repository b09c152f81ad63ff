using Lepton.Orchestrations.Ingestion;
using Lepton.Orchestrations.Prediction;
using Lepton.Orchestrations.Runs;
using Lepton.Orchestrations.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Orchestrations;

public static class ServiceCollectionExtensions
{
    /// <summary>Activities and the services that start and read runs.</summary>
    public static IServiceCollection AddLeptonOrchestrations(this IServiceCollection services)
    {
        services.AddSingleton<IngestStarter>();
        services.AddSingleton<RunQueries>();
        services.AddSingleton<RunCancellation>();
        services.AddSingleton<TrainingStarter>();
        services.AddSingleton<OnlineUpdateStarter>();
        services.AddSingleton<Collaborations.CollaborationStarter>();
        return services;
    }
}
