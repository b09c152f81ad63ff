using Lepton.Prediction;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Prediction;

/// <summary>Check the file against the model, score its chunks in parallel (bounded), publish the output in one commit.</summary>
public sealed class BatchScoringOrchestrator
{
    public const int MaxParallelChunks = 8;

    public async Task<BatchOutcome> RunAsync(TaskOrchestrationContext context, BatchRequest request)
    {
        BatchPlan plan = await context.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), request, ActivityRetry.Default);
        if (plan.Problems.Count > 0)
        {
            string report = await context.CallActivityAsync<string>(nameof(ReportBatchScoring), plan, ActivityRetry.Default);
            return new BatchOutcome(request.RunId, "rejected", report, 0, plan.Problems);
        }

        List<(int Index, string Block)> staged = await BoundedFanOut.RunAsync(plan.Chunks, MaxParallelChunks, chunk => ScoreAsync(context, plan, chunk),
            done => context.SetCustomStatus(new { Stage = "scoring", Done = done.Count, Total = plan.Chunks.Count }));
        string[] blocks = staged.OrderBy(s => s.Index).Select(s => s.Block).ToArray();
        string output = await context.CallActivityAsync<string>(nameof(CommitBatchScoring), new CommitRequest(plan, blocks), ActivityRetry.Default);
        context.SetCustomStatus(new { Stage = "done", Done = plan.Chunks.Count, Total = plan.Chunks.Count });
        return new BatchOutcome(request.RunId, "scored", output, plan.Rows, []);
    }

    private static async Task<(int, string)> ScoreAsync(TaskOrchestrationContext context, BatchPlan plan, BatchChunk chunk) =>
        (chunk.Index, await context.CallActivityAsync<string>(nameof(ScoreBatchChunk), new ChunkRequest(plan, chunk), ActivityRetry.Default));
}

public sealed record CommitRequest(BatchPlan Plan, IReadOnlyList<string> BlockIds);

public sealed class PlanBatchScoring(BatchScoring batch)
{
    public Task<BatchPlan> RunAsync(BatchRequest input, CancellationToken ct = default) => batch.PlanAsync(input, ct);
}

public sealed class ScoreBatchChunk(BatchScoring batch)
{
    public Task<string> RunAsync(ChunkRequest input, CancellationToken ct = default) => batch.ScoreChunkAsync(input, ct);
}

public sealed class CommitBatchScoring(BatchScoring batch)
{
    public Task<string> RunAsync(CommitRequest input, CancellationToken ct = default) => batch.CommitAsync(input.Plan, input.BlockIds, ct);
}

public sealed class ReportBatchScoring(BatchScoring batch)
{
    public Task<string> RunAsync(BatchPlan input, CancellationToken ct = default) => batch.ReportAsync(input, ct);
}
