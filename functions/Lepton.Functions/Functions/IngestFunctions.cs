using Lepton.Datasets;
using Lepton.Ingestion;
using Lepton.Orchestrations.Ingestion;
using Microsoft.Azure.Functions.Worker;
using Lepton.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of the ingest workflow: each activity calls the pipeline directly (one hop).</summary>
public sealed class IngestFunctions(IngestPipeline pipeline, IngestSlots slots)
{
    [Function(nameof(IngestOrchestrator))]
    public static Task<IngestOutcome> RunIngestOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new IngestOrchestrator().RunAsync(context, context.GetInput<IngestRequest>()!);

    [Function(nameof(ReserveIngestSlot))]
    public Task<IngestSlotDecision> RunReserveIngestSlot([ActivityTrigger] IngestSlotRequest input, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        slots.ReserveAsync(input, client.IsRunningAsync, ct);

    [Function(nameof(ReleaseIngestSlot))]
    public Task RunReleaseIngestSlot([ActivityTrigger] IngestSlotRequest input, CancellationToken ct) => slots.ReleaseAsync(input, ct);

    [Function(nameof(AnalyzeSource))]
    public Task<AnalysisSummary> RunAnalyzeSource([ActivityTrigger] IngestRequest input, CancellationToken ct) => pipeline.AnalyzeAsync(input, ct);

    [Function(nameof(CleanSource))]
    public Task<CleanedVersion> RunCleanSource([ActivityTrigger] CleanRequest input, CancellationToken ct) => pipeline.CleanAsync(input, ct);

    [Function(nameof(PublishDatasetVersion))]
    public Task<DatasetVersionRecord> RunPublishDatasetVersion([ActivityTrigger] PublishRequest input, CancellationToken ct) => pipeline.PublishAsync(input, ct);

    [Function(nameof(RejectSource))]
    public Task<string> RunRejectSource([ActivityTrigger] RejectRequest input, CancellationToken ct) => pipeline.RejectAsync(input, ct);
}
