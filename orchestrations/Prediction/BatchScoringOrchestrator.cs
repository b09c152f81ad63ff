using Lepton.Prediction;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Prediction;

/// <summary>Check the file against the model, score its chunks in parallel (bounded), publish the output in one commit.</summary>
public sealed class BatchScoringOrchestrator
{
    public const int MaxParallelChunks = 8;

    private static TaskOptions Retry { get; } =
        TaskOptions.FromRetryPolicy(new RetryPolicy(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2));

    public async Task<BatchOutcome> RunAsync(TaskOrchestrationContext context, BatchRequest request)
    {
        BatchPlan plan = await context.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), request, Retry);
        if (plan.Problems.Count > 0)
        {
            string report = await context.CallActivityAsync<string>(nameof(ReportBatchScoring), plan, Retry);
            return new BatchOutcome(request.RunId, "rejected", report, 0, plan.Problems);
        }

        var blocks = new string[plan.Chunks.Count];
        var running = new List<Task>();
        int done = 0;
        foreach (BatchChunk chunk in plan.Chunks)
        {
            if (running.Count == MaxParallelChunks)
            {
                running.Remove(await Task.WhenAny(running));
                context.SetCustomStatus(new { Stage = "scoring", Done = ++done, Total = plan.Chunks.Count });
            }

            running.Add(ScoreAsync(context, plan, chunk, blocks));
        }

        await Task.WhenAll(running);
        string output = await context.CallActivityAsync<string>(nameof(CommitBatchScoring), new CommitRequest(plan, blocks), Retry);
        context.SetCustomStatus(new { Stage = "done", Done = plan.Chunks.Count, Total = plan.Chunks.Count });
        return new BatchOutcome(request.RunId, "scored", output, plan.Rows, []);
    }

    private static async Task ScoreAsync(TaskOrchestrationContext context, BatchPlan plan, BatchChunk chunk, string[] blocks) =>
        blocks[chunk.Index] = await context.CallActivityAsync<string>(nameof(ScoreBatchChunk), new ChunkRequest(plan, chunk), Retry);
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
