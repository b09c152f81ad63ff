using Lepton.Orchestrations.Prediction;
using Lepton.Prediction;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of batch scoring (files in predictions/in/&lt;model&gt;/): each activity calls BatchScoring directly.</summary>
public sealed class BatchScoringFunctions(BatchScoring batch)
{
    [Function(nameof(BatchScoringOrchestrator))]
    public static Task<BatchOutcome> RunBatchScoringOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new BatchScoringOrchestrator().RunAsync(context, context.GetInput<BatchRequest>()!);

    [Function(nameof(PlanBatchScoring))]
    public Task<BatchPlan> RunPlanBatchScoring([ActivityTrigger] BatchRequest input, CancellationToken ct) => batch.PlanAsync(input, ct);

    [Function(nameof(ScoreBatchChunk))]
    public Task<string> RunScoreBatchChunk([ActivityTrigger] ChunkRequest input, CancellationToken ct) => batch.ScoreChunkAsync(input, ct);

    [Function(nameof(CommitBatchScoring))]
    public Task<BatchCommit> RunCommitBatchScoring([ActivityTrigger] CommitRequest input, CancellationToken ct) => batch.CommitAsync(input.Plan, input.BlockIds, ct);

    [Function(nameof(ReportBatchScoring))]
    public Task<string?> RunReportBatchScoring([ActivityTrigger] BatchPlan input, CancellationToken ct) => batch.ReportAsync(input, ct);
}
