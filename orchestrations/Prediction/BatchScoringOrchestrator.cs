using Lepton.Runs;
using Lepton.Prediction;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Prediction;

/// <summary>Check the file against the model, score its chunks in parallel (bounded), publish the output in one commit.</summary>
public sealed class BatchScoringOrchestrator : TaskOrchestrator<BatchRequest, BatchOutcome>
{
    public const int MaxParallelChunks = 8;

    /// <summary>The status of a run whose file was replaced by a newer upload before it could publish anything.</summary>
    public const string Superseded = "superseded";

    public override async Task<BatchOutcome> RunAsync(TaskOrchestrationContext context, BatchRequest request)
    {
        try
        {
            return await ScoreFileAsync(context, request);
        }
        catch (TaskFailedException e) when (!ActivityRetry.IsTransient(e.FailureDetails))
        {
            // The file's own data (rows the model cannot score): rejected like a file that fails its checks.
            return await RejectAsync(context, new BatchPlan(request, null, 0, [], [e.FailureDetails.ErrorMessage]));
        }
        catch (TaskFailedException e)
        {
            // Whatever failed after its retries, the partner finds a report where the output would have been.
            var failed = new BatchPlan(request, null, 0, [],
                [$"Scoring stopped on the platform's side: {e.FailureDetails.ErrorMessage} Nothing was written; upload the file again to retry."]);
            string? report = await context.CallActivityAsync<string?>(nameof(ReportBatchScoring), failed, ActivityRetry.Default);
            return new BatchOutcome(request.RunId, report is null ? Superseded : "failed", report, 0, failed.Problems);
        }
    }

    private static async Task<BatchOutcome> ScoreFileAsync(TaskOrchestrationContext context, BatchRequest request)
    {
        BatchPlan plan = await context.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), request, ActivityRetry.Default);
        if (plan.Problems.Count > 0)
        {
            return await RejectAsync(context, plan);
        }

        List<(int Index, string Block)> staged = await BoundedFanOut.RunAsync(plan.Chunks, MaxParallelChunks, chunk => ScoreAsync(context, plan, chunk),
            done => context.SetCustomStatus(new RunProgress("scoring", done.Count, plan.Chunks.Count)));
        string[] blocks = staged.OrderBy(s => s.Index).Select(s => s.Block).ToArray();
        BatchCommit committed = await context.CallActivityAsync<BatchCommit>(nameof(CommitBatchScoring), new CommitRequest(plan, blocks), ActivityRetry.Default);
        if (committed.Problems.Count > 0)
        {
            // The file was replaced while it was scored: the newer upload's run publishes, this one reports why it did not.
            return await RejectAsync(context, plan with { Problems = committed.Problems });
        }

        context.SetCustomStatus(new RunProgress("done", plan.Chunks.Count, plan.Chunks.Count));
        return new BatchOutcome(request.RunId, "scored", committed.Output, plan.Rows, []);
    }

    /// <summary>
    /// Writes the plan's problems as the file's report (removing staged chunks); nothing is published. A run whose file
    /// was replaced meanwhile writes no report (the newer upload's run answers for the name) and ends superseded.
    /// </summary>
    private static async Task<BatchOutcome> RejectAsync(TaskOrchestrationContext context, BatchPlan plan)
    {
        string? report = await context.CallActivityAsync<string?>(nameof(ReportBatchScoring), plan, ActivityRetry.Default);
        return new BatchOutcome(plan.Request.RunId, report is null ? Superseded : "rejected", report, 0, plan.Problems);
    }

    private static async Task<(int, string)> ScoreAsync(TaskOrchestrationContext context, BatchPlan plan, BatchChunk chunk) =>
        (chunk.Index, await context.CallActivityAsync<string>(nameof(ScoreBatchChunk), new ChunkRequest(plan, chunk), ActivityRetry.Default));
}

public sealed record CommitRequest(BatchPlan Plan, IReadOnlyList<string> BlockIds);

// Activity names: empty marker types; each [Function] method calls BatchScoring directly (one hop).

/// <summary>Check the file's header against the model's inputs and cut it into chunks.</summary>
public static class PlanBatchScoring;

/// <summary>Score one chunk and stage it as a block of the output blob.</summary>
public static class ScoreBatchChunk;

/// <summary>Commit the staged blocks: the output appears at once, whole — unless the file was replaced meanwhile.</summary>
public static class CommitBatchScoring;

/// <summary>Write the readable report of a file that cannot be scored (none if a newer upload replaced it).</summary>
public static class ReportBatchScoring;
