using Lepton.Datasets;
using Lepton.Ingestion;
using Lepton.Orchestrations.Ingestion;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of the ingest workflow; the logic lives in orchestrations/.</summary>
public sealed class IngestFunctions(AnalyzeSource analyze, CleanSource clean, PublishDatasetVersion publish, RejectSource reject)
{
    [Function(nameof(IngestOrchestrator))]
    public static Task<IngestOutcome> RunIngestOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new IngestOrchestrator().RunAsync(context, context.GetInput<IngestRequest>()!);

    [Function(nameof(AnalyzeSource))]
    public Task<SourceAnalysis> RunAnalyzeSource([ActivityTrigger] IngestRequest input, CancellationToken ct) => analyze.RunAsync(input, ct);

    [Function(nameof(CleanSource))]
    public Task<CleanedVersion> RunCleanSource([ActivityTrigger] CleanRequest input, CancellationToken ct) => clean.RunAsync(input, ct);

    [Function(nameof(PublishDatasetVersion))]
    public Task<DatasetVersionRecord> RunPublishDatasetVersion([ActivityTrigger] PublishRequest input, CancellationToken ct) => publish.RunAsync(input, ct);

    [Function(nameof(RejectSource))]
    public Task<string> RunRejectSource([ActivityTrigger] RejectRequest input, CancellationToken ct) => reject.RunAsync(input, ct);
}
