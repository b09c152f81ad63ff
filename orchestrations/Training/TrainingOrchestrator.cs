using Lepton.Runs;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Lepton.Orchestrations.Training;

/// <summary>
/// Cross-validated model selection: plan, fan out one activity per (candidate, fold) with a bounded degree of parallelism,
/// aggregate, train the winner on all data, export and check ONNX, register. Candidates whose folds keep failing are
/// dropped with their error; the run fails only when none succeeds. Deterministic: references and metrics only.
/// </summary>
public sealed partial class TrainingOrchestrator : TaskOrchestrator<TrainRequest, TrainingOutcome>
{
    public const int MaxParallelFolds = 8;

    public override async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, TrainRequest request)
    {
        context.SetCustomStatus(new TrainingProgress("planning", 0, 0, null, null));
        TrainingPlan plan = await DurableCalls.CallAsync<TrainingPlan>(context, nameof(PrepareTraining), request);
        // Replay-safe: logged once, not again on every replay of the history.
        LogPlanned(context.CreateReplaySafeLogger<TrainingOrchestrator>(), request.RunId, plan.Candidates.Count, plan.Folds, plan.Rows, plan.HeavyCandidates.Count);

        // Network candidates the plan marked heavy go to the GPU trainer (all folds and the final model in one job); the rest
        // fan out here, one activity per fold, or per batch of a candidate's folds when the data is small. Both proceed at once.
        List<CandidateSpec> heavy = plan.Candidates.Where(c => plan.HeavyCandidates.Contains(c.Id)).ToList();
        List<CandidateSpec> rest = plan.Candidates.Except(heavy).ToList();
        int total = plan.Candidates.Count * plan.Folds;
        context.SetCustomStatus(new TrainingProgress("evaluating", 0, total, null, null));
        Task<List<FoldResult>> light = IsSmall(plan)
            ? FlattenAsync(BoundedFanOut.RunAsync(FoldBatches(plan, rest), MaxParallelFolds, batch => EvaluateBatchAsync(context, batch),
                done => Report(context, plan, done.SelectMany(r => r).ToList(), total)))
            : BoundedFanOut.RunAsync(rest.SelectMany(c => Enumerable.Range(0, plan.Folds).Select(f => new FoldRequest(plan, c, f))).ToList(), MaxParallelFolds,
                fold => EvaluateAsync(context, fold), done => Report(context, plan, done, total));
        Task<HeavyTrainingResult[]> heavyRuns = Task.WhenAll(heavy.Select(c => TrainHeavyAsync(context, plan, c)));
        await Task.WhenAll(light, heavyRuns);
        Dictionary<string, HeavyTrainingResult> heavyResults = heavyRuns.Result.ToDictionary(r => r.CandidateId);
        List<FoldResult> results = [.. light.Result, .. heavyRuns.Result.SelectMany(r => FoldsOf(plan, r))];

        IReadOnlyList<LeaderboardEntry> leaderboard = Leaderboard.Aggregate(plan.Candidates, results, plan.Folds, plan.Metric);
        LeaderboardEntry best = Leaderboard.Best(leaderboard) ?? throw new InvalidOperationException(
            "No candidate could be trained: " + string.Join("; ", leaderboard.Select(e => $"{e.CandidateId}: {e.Error}")));
        CandidateSpec winner = plan.Candidates.Single(c => c.Id == best.CandidateId);

        context.SetCustomStatus(new TrainingProgress("training final model", total, total, best.CandidateId, best.Metrics[plan.Metric].Mean));
        // A heavy winner was already trained on all rows by its job.
        TrainedArtifact artifact = heavyResults.TryGetValue(winner.Id, out HeavyTrainingResult? trained) && trained.Artifact is { } fromWorker
            ? fromWorker
            : await DurableCalls.CallAsync<TrainedArtifact>(context, nameof(TrainFinalModel), new FinalTrainingRequest(plan, winner, leaderboard));

        context.SetCustomStatus(new TrainingProgress("registering", total, total, best.CandidateId, best.Metrics[plan.Metric].Mean));
        ModelVersion version = await DurableCalls.CallAsync<ModelVersion>(context, nameof(RegisterModelVersion), new RegisterRequest(plan, winner, leaderboard, artifact));

        context.SetCustomStatus(new TrainingProgress("done", total, total, best.CandidateId, version.MetricValue));
        return new TrainingOutcome(request.RunId, version.Model, version.Version, version.Stage, version.Metric, version.MetricValue, version.PromotionReason);
    }

    /// <summary>
    /// Up to this many cells (rows × columns) a candidate's folds run in batches (<see cref="FoldBatches"/>): a fold of small
    /// data trains in milliseconds, and a durable round trip per fold (history write, queue hop, replay) would cost more than the work.
    /// </summary>
    public const long BatchFoldsUpToCells = 250_000;

    public static bool IsSmall(TrainingPlan plan) => plan.Rows * Math.Max(1, plan.Schema.Columns.Count) <= BatchFoldsUpToCells;

    /// <summary>Small data keeps at least this many activities running when the candidates are fewer.</summary>
    public const int MinBatchesInFlight = 4;

    /// <summary>
    /// A small run's activities: each candidate's folds in one batch, or, with fewer candidates than
    /// <see cref="MinBatchesInFlight"/>, split into a few batches of neighbouring folds — one candidate's five folds in a single
    /// activity trained one after another on one core while the others stood idle. A batch never mixes candidates, so a
    /// fold that keeps failing (or kills the host) costs only its own candidate.
    /// </summary>
    public static List<FoldBatchRequest> FoldBatches(TrainingPlan plan, IReadOnlyList<CandidateSpec> candidates)
    {
        int perCandidate = candidates.Count == 0 ? 1 : Math.Clamp((MinBatchesInFlight + candidates.Count - 1) / candidates.Count, 1, plan.Folds);
        return candidates.SelectMany(c => Enumerable.Range(0, plan.Folds)
                .GroupBy(fold => fold * perCandidate / plan.Folds)
                .Select(folds => new FoldBatchRequest(plan, c, folds.ToList())))
            .ToList();
    }

    private static async Task<List<FoldResult>> FlattenAsync(Task<List<IReadOnlyList<FoldResult>>> batches) => (await batches).SelectMany(b => b).ToList();

    /// <summary>
    /// Folds that still fail after their retries become results with the error, so their candidate is dropped, not the
    /// run; a member withdrawing its data mid-run stops the run with the owner's reason (<see cref="DurableCalls"/>).
    /// </summary>
    private static async Task<FoldResult> EvaluateAsync(TaskOrchestrationContext context, FoldRequest fold)
    {
        try
        {
            return await DurableCalls.CallAsync<FoldResult>(context, nameof(EvaluateCandidateFold), fold);
        }
        catch (InvalidOperationException e)
        {
            return FoldResult.Failed(fold.Candidate.Id, fold.Fold, e.Message);
        }
    }

    /// <summary>A candidate's folds in one activity (small data); failures as in <see cref="EvaluateAsync"/>.</summary>
    private static async Task<IReadOnlyList<FoldResult>> EvaluateBatchAsync(TaskOrchestrationContext context, FoldBatchRequest batch)
    {
        try
        {
            return await DurableCalls.CallAsync<IReadOnlyList<FoldResult>>(context, nameof(EvaluateCandidateFolds), batch);
        }
        catch (InvalidOperationException e)
        {
            return [.. batch.Folds.Select(f => FoldResult.Failed(batch.Candidate.Id, f, e.Message))];
        }
    }

    /// <summary>
    /// Sends one heavy candidate to the trainer worker and waits for its completion event under a durable timer. Between
    /// waits it reads the job's result blob, so a lost callback costs one poll interval, not the run. At the deadline the
    /// job is dead-lettered and the candidate fails with the reason; the run's other candidates go on. A duplicate or
    /// late completion event finds no one waiting and changes nothing.
    /// </summary>
    private static async Task<HeavyTrainingResult> TrainHeavyAsync(TaskOrchestrationContext context, TrainingPlan plan, CandidateSpec candidate)
    {
        HeavyTrainingTicket ticket;
        try
        {
            ticket = await context.CallActivityAsync<HeavyTrainingTicket>(nameof(EnqueueHeavyTraining), new HeavyTrainingRequest(plan, candidate), ActivityRetry.Default);
        }
        catch (TaskFailedException e)
        {
            return Failed(candidate, $"The job could not be sent to the GPU trainer: {e.FailureDetails.ErrorMessage}");
        }

        DateTime deadline = context.CurrentUtcDateTime + plan.HeavyTimeout;
        Task<HeavyTrainingResult> completion = context.WaitForExternalEvent<HeavyTrainingResult>(ticket.EventName);
        while (context.CurrentUtcDateTime < deadline)
        {
            using var cancelTimer = new CancellationTokenSource();
            DateTime next = context.CurrentUtcDateTime + HeavyPollInterval < deadline ? context.CurrentUtcDateTime + HeavyPollInterval : deadline;
            Task timer = context.CreateTimer(next, cancelTimer.Token);
            if (await Task.WhenAny(completion, timer) == completion)
            {
                cancelTimer.Cancel();
                return await completion;
            }

            if (await context.CallActivityAsync<HeavyTrainingResult?>(nameof(ReadHeavyTrainingResult), ticket, ActivityRetry.Default) is { } stored)
            {
                return stored;
            }
        }

        string reason = $"The GPU trainer did not finish '{candidate.Id}' within {plan.HeavyTimeout}; its job was dead-lettered.";
        await context.CallActivityAsync(nameof(DeadLetterHeavyTraining), new DeadLetterRequest(ticket, reason), ActivityRetry.Default);
        return Failed(candidate, reason);
    }

    /// <summary>How often a waiting run looks for a result blob whose callback never came.</summary>
    public static readonly TimeSpan HeavyPollInterval = TimeSpan.FromSeconds(30);

    private static HeavyTrainingResult Failed(CandidateSpec candidate, string error) => new("", candidate.Id, [], null, error, "", 0);

    /// <summary>A job that produced no folds counts as every fold failing with its error, so the leaderboard drops it with the reason.</summary>
    private static IEnumerable<FoldResult> FoldsOf(TrainingPlan plan, HeavyTrainingResult result) =>
        result.Folds.Count > 0
            ? result.Folds
            : Enumerable.Range(0, plan.Folds).Select(f => FoldResult.Failed(result.CandidateId, f, result.Error ?? "no result"));

    private static void Report(TaskOrchestrationContext context, TrainingPlan plan, IReadOnlyList<FoldResult> results, int total)
    {
        LeaderboardEntry? best = Leaderboard.Best(Leaderboard.Aggregate(plan.Candidates, results, plan.Folds, plan.Metric));
        context.SetCustomStatus(new TrainingProgress("evaluating", results.Count, total, best?.CandidateId, best?.Metrics[plan.Metric].Mean));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: {Candidates} candidates x {Folds} folds on {Rows} rows, {Heavy} on the GPU trainer")]
    private static partial void LogPlanned(ILogger logger, string runId, int candidates, int folds, long rows, int heavy);
}
