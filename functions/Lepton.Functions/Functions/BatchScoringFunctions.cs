using Lepton.Orchestrations.Prediction;
using Lepton.Prediction;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of batch scoring (files in predictions/in/&lt;model&gt;/).</summary>
public sealed class BatchScoringFunctions(PlanBatchScoring plan, ScoreBatchChunk score, CommitBatchScoring commit, ReportBatchScoring report)
{
    [Function(nameof(BatchScoringOrchestrator))]
    public static Task<BatchOutcome> RunBatchScoringOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new BatchScoringOrchestrator().RunAsync(context, context.GetInput<BatchRequest>()!);

    [Function(nameof(PlanBatchScoring))]
    public Task<BatchPlan> RunPlanBatchScoring([ActivityTrigger] BatchRequest input, CancellationToken ct) => plan.RunAsync(input, ct);

    [Function(nameof(ScoreBatchChunk))]
    public Task<string> RunScoreBatchChunk([ActivityTrigger] ChunkRequest input, CancellationToken ct) => score.RunAsync(input, ct);

    [Function(nameof(CommitBatchScoring))]
    public Task<string> RunCommitBatchScoring([ActivityTrigger] CommitRequest input, CancellationToken ct) => commit.RunAsync(input, ct);

    [Function(nameof(ReportBatchScoring))]
    public Task<string> RunReportBatchScoring([ActivityTrigger] BatchPlan input, CancellationToken ct) => report.RunAsync(input, ct);
}
