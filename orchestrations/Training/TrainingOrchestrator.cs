using Lepton.Runs;
using Lepton.Training;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Training;

/// <summary>
/// Cross-validated model selection: plan, fan out one activity per (candidate, fold) with a bounded degree of parallelism,
/// aggregate, train the winner on all data, export and check ONNX, register. Candidates whose folds keep failing are
/// dropped with their error; the run fails only when none succeeds. Deterministic: references and metrics only.
/// </summary>
public sealed class TrainingOrchestrator : TaskOrchestrator<TrainRequest, TrainingOutcome>
{
    public const int MaxParallelFolds = 8;

    public override async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, TrainRequest request)
    {
        context.SetCustomStatus(new TrainingProgress("planning", 0, 0, null, null));
        TrainingPlan plan = await context.CallActivityAsync<TrainingPlan>(nameof(PrepareTraining), request, ActivityRetry.Default);

        var grid = plan.Candidates.SelectMany(c => Enumerable.Range(0, plan.Folds).Select(f => new FoldRequest(plan, c, f))).ToList();
        List<FoldResult> results = await BoundedFanOut.RunAsync(grid, MaxParallelFolds, fold => EvaluateAsync(context, fold),
            done => Report(context, plan, done, grid.Count));

        IReadOnlyList<LeaderboardEntry> leaderboard = Leaderboard.Aggregate(plan.Candidates, results, plan.Folds, plan.Metric);
        LeaderboardEntry best = Leaderboard.Best(leaderboard) ?? throw new InvalidOperationException(
            "No candidate could be trained: " + string.Join("; ", leaderboard.Select(e => $"{e.CandidateId}: {e.Error}")));
        CandidateSpec winner = plan.Candidates.Single(c => c.Id == best.CandidateId);

        context.SetCustomStatus(new TrainingProgress("training final model", grid.Count, grid.Count, best.CandidateId, best.Metrics[plan.Metric].Mean));
        TrainedArtifact artifact = await DurableCalls.CallAsync<TrainedArtifact>(context, nameof(TrainFinalModel), new FinalTrainingRequest(plan, winner, leaderboard));

        context.SetCustomStatus(new TrainingProgress("registering", grid.Count, grid.Count, best.CandidateId, best.Metrics[plan.Metric].Mean));
        ModelVersion version = await context.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion), new RegisterRequest(plan, winner, leaderboard, artifact), ActivityRetry.Default);

        context.SetCustomStatus(new TrainingProgress("done", grid.Count, grid.Count, best.CandidateId, version.MetricValue));
        return new TrainingOutcome(request.RunId, version.Model, version.Version, version.Stage, version.Metric, version.MetricValue, version.PromotionReason);
    }

    /// <summary>A fold that still fails after its retries becomes a result with the error, so its candidate is dropped, not the run.</summary>
    private static async Task<FoldResult> EvaluateAsync(TaskOrchestrationContext context, FoldRequest fold)
    {
        try
        {
            return await context.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), fold, ActivityRetry.Default);
        }
        catch (TaskFailedException e) when (ActivityRetry.IsDataUseDenied(e.FailureDetails))
        {
            // A member withdrew its data mid-run: the run stops with the owner's reason, not a list of failed candidates.
            throw new Lepton.Security.DataUseDeniedException(e.FailureDetails.ErrorMessage);
        }
        catch (TaskFailedException e)
        {
            return new FoldResult(fold.Candidate.Id, fold.Fold, new Dictionary<string, double>(), e.FailureDetails.ErrorMessage, 0);
        }
    }

    private static void Report(TaskOrchestrationContext context, TrainingPlan plan, IReadOnlyList<FoldResult> results, int total)
    {
        LeaderboardEntry? best = Leaderboard.Best(Leaderboard.Aggregate(plan.Candidates, results, plan.Folds, plan.Metric));
        context.SetCustomStatus(new TrainingProgress("evaluating", results.Count, total, best?.CandidateId, best?.Metrics[plan.Metric].Mean));
    }
}
