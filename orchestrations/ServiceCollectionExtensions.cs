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
        services.AddSingleton<AnalyzeSource>();
        services.AddSingleton<CleanSource>();
        services.AddSingleton<PublishDatasetVersion>();
        services.AddSingleton<RejectSource>();
        services.AddSingleton<IngestStarter>();
        services.AddSingleton<RunQueries>();
        services.AddSingleton<PrepareTraining>();
        services.AddSingleton<EvaluateCandidateFold>();
        services.AddSingleton<TrainFinalModel>();
        services.AddSingleton<RegisterModelVersion>();
        services.AddSingleton<TrainingStarter>();
        services.AddSingleton<OnlineUpdateStarter>();
        services.AddSingleton<Collaborations.CollaborationStarter>();
        services.AddSingleton<StartTrainingRun>();
        services.AddSingleton<StartOnlineUpdateRun>();
        services.AddSingleton<PlanBatchScoring>();
        services.AddSingleton<ScoreBatchChunk>();
        services.AddSingleton<CommitBatchScoring>();
        services.AddSingleton<ReportBatchScoring>();
        return services;
    }
}
