using Lepton.Ingestion;
using Lepton.Orchestrations;
using Lepton.Orchestrations.Training;
using Lepton.Training;
using Microsoft.DurableTask;
using Moq;

namespace Lepton.Tests.Unit.Orchestrations;

public class TrainingOrchestratorTests
{
    private static readonly TrainRequest Request = new("acme", "churn", ["sales"], "y", null, null, 3, null, "train-1");

    /// <summary>A plan over data large enough for one activity per fold; <see cref="SmallPlan"/> for the batched path.</summary>
    private static TrainingPlan Plan(params string[] candidates) =>
        new(Request, [new DatasetRef("sales", 1, "sales/v1/data.csv")], new DatasetSchema([], "y", "binary"), "y", MlTasks.Binary, "auc", 3, 42,
            TrainingOrchestrator.BatchFoldsUpToCells + 1, candidates.Select(c => new CandidateSpec(c, "T", new Dictionary<string, double>())).ToList());

    private static TrainingPlan SmallPlan(params string[] candidates) => Plan(candidates) with { Rows = 100 };

    private static Mock<TaskOrchestrationContext> Context(TrainingPlan plan, Func<FoldRequest, FoldResult> fold)
    {
        var context = new Mock<TaskOrchestrationContext>();
        context.Setup(c => c.CreateReplaySafeLogger<TrainingOrchestrator>()).Returns(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        context.Setup(c => c.CallActivityAsync<TrainingPlan>(nameof(PrepareTraining), Request, It.IsAny<TaskOptions>())).ReturnsAsync(plan);
        context.Setup(c => c.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) => Task.FromResult(fold((FoldRequest)input!)));
        context.Setup(c => c.CallActivityAsync<TrainedArtifact>(nameof(TrainFinalModel), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new TrainedArtifact("onnx", "sha", "zip", [], ["false", "true"], 0, 200));
        context.Setup(c => c.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var r = (RegisterRequest)input!;
                return Task.FromResult(new ModelVersion("churn", 1, ModelStages.Production, "binary", "auc", r.Leaderboard[0].Metrics["auc"].Mean, "y",
                    r.Winner, r.Leaderboard, [], "onnx", "sha", [], "", [], default, "train-1", "first version of the model"));
            });
        return context;
    }

    private static FoldResult Ok(FoldRequest f, double auc) => new(f.Candidate.Id, f.Fold, new Dictionary<string, double> { ["auc"] = auc }, null, 0);

    [Fact]
    public async Task RunAsync_AllCandidates_EvaluatesEveryFoldAndRegistersTheBest()
    {
        // Arrange
        var evaluated = new List<(string, int)>();
        Mock<TaskOrchestrationContext> context = Context(Plan("a", "b", "c"), f =>
        {
            evaluated.Add((f.Candidate.Id, f.Fold));
            return Ok(f, f.Candidate.Id == "b" ? 0.9 : 0.7);
        });

        // Act
        TrainingOutcome outcome = await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal(9, evaluated.Distinct().Count());
        context.Verify(c => c.CallActivityAsync<TrainedArtifact>(nameof(TrainFinalModel),
            It.Is<FinalTrainingRequest>(r => r.Winner.Id == "b"), It.IsAny<TaskOptions>()), Times.Once);
        Assert.Equal(0.9, outcome.MetricValue, 10);
        Assert.Equal(ModelStages.Production, outcome.Stage);
    }

    [Fact]
    public async Task RunAsync_SmallData_EvaluatesEachCandidatesFoldsInOneActivity()
    {
        // Arrange
        var batches = new List<FoldBatchRequest>();
        Mock<TaskOrchestrationContext> context = Context(SmallPlan("a", "b", "c", "d"), _ => throw new InvalidOperationException("no per-fold activity expected"));
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<FoldResult>>(nameof(EvaluateCandidateFolds), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var batch = (FoldBatchRequest)input!;
                batches.Add(batch);
                return Task.FromResult<IReadOnlyList<FoldResult>>(batch.Folds.Select(f => Ok(new FoldRequest(batch.Plan, batch.Candidate, f), batch.Candidate.Id == "c" ? 0.9 : 0.7)).ToList());
            });

        // Act
        TrainingOutcome outcome = await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert: four activities of three folds each, the best candidate registered
        Assert.Equal(["a", "b", "c", "d"], batches.Select(b => b.Candidate.Id).Order());
        Assert.All(batches, b => Assert.Equal([0, 1, 2], b.Folds));
        context.Verify(c => c.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
        Assert.Equal(0.9, outcome.MetricValue, 10);
    }

    [Theory]
    [InlineData(1, 5, "0.1|2|3|4")]
    [InlineData(2, 5, "0.1.2|3.4")]
    [InlineData(3, 5, "0.1.2|3.4")]
    [InlineData(1, 3, "0|1|2")]
    [InlineData(4, 5, "0.1.2.3.4")]
    [InlineData(9, 10, "0.1.2.3.4.5.6.7.8.9")]
    public void FoldBatches_FewerCandidatesThanBatchesInFlight_SplitsEachCandidatesFoldsInOrder(int candidates, int folds, string expected)
    {
        // Arrange
        string[] ids = Enumerable.Range(0, candidates).Select(i => $"c{i}").ToArray();
        TrainingPlan plan = SmallPlan(ids) with { Folds = folds };

        // Act
        List<FoldBatchRequest> batches = TrainingOrchestrator.FoldBatches(plan, plan.Candidates);

        // Assert: every candidate's folds exactly once, in batches of neighbouring folds that never mix candidates
        Assert.All(ids, id => Assert.Equal(expected, string.Join('|', batches.Where(b => b.Candidate.Id == id).Select(b => string.Join('.', b.Folds)))));
        Assert.Equal(ids.Length * expected.Split('|').Length, batches.Count);
    }

    [Fact]
    public async Task RunAsync_SmallDataOneCandidate_SpreadsItsFoldsOverSeveralActivities()
    {
        // Arrange
        var batches = new List<FoldBatchRequest>();
        Mock<TaskOrchestrationContext> context = Context(SmallPlan("a"), _ => throw new InvalidOperationException("no per-fold activity expected"));
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<FoldResult>>(nameof(EvaluateCandidateFolds), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var batch = (FoldBatchRequest)input!;
                batches.Add(batch);
                return Task.FromResult<IReadOnlyList<FoldResult>>(batch.Folds.Select(f => Ok(new FoldRequest(batch.Plan, batch.Candidate, f), 0.8)).ToList());
            });

        // Act
        TrainingOutcome outcome = await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert: the plan's three folds in three activities, all of them on the leaderboard
        Assert.Equal([[0], [1], [2]], batches.Select(b => b.Folds.ToArray()).OrderBy(f => f[0]));
        context.Verify(c => c.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion),
            It.Is<RegisterRequest>(r => r.Leaderboard.Single().FoldsSucceeded == 3), It.IsAny<TaskOptions>()), Times.Once);
        Assert.Equal(0.8, outcome.MetricValue, 10);
    }

    [Fact]
    public async Task RunAsync_SmallDataBatchKeepsFailing_DropsThatCandidateWithTheReason()
    {
        // Arrange: candidate "a"'s batch fails after its retries
        Mock<TaskOrchestrationContext> context = Context(SmallPlan("a", "b"), _ => throw new InvalidOperationException());
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<FoldResult>>(nameof(EvaluateCandidateFolds), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var batch = (FoldBatchRequest)input!;
                return batch.Candidate.Id == "a"
                    ? Task.FromException<IReadOnlyList<FoldResult>>(new TaskFailedException(nameof(EvaluateCandidateFolds), 3, new TaskFailureDetails("IOException", "disk full", null, null, null)))
                    : Task.FromResult<IReadOnlyList<FoldResult>>(batch.Folds.Select(f => Ok(new FoldRequest(batch.Plan, batch.Candidate, f), 0.8)).ToList());
            });

        // Act
        await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert
        context.Verify(c => c.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion),
            It.Is<RegisterRequest>(r => r.Winner.Id == "b" && r.Leaderboard.Single(e => e.CandidateId == "a").Error == "disk full"), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_CandidateKeepsFailing_IsDroppedAndRunContinues()
    {
        // Arrange: candidate "a" is best when it works, but its fold 1 fails after retries
        var context = Context(Plan("a", "b"), f => Ok(f, f.Candidate.Id == "a" ? 0.99 : 0.8));
        context.Setup(c => c.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), It.Is<FoldRequest>(f => f.Candidate.Id == "a" && f.Fold == 1), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(EvaluateCandidateFold), 7, new TaskFailureDetails("InvalidOperationException", "out of memory", null, null, null)));

        // Act
        await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert
        context.Verify(c => c.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion),
            It.Is<RegisterRequest>(r => r.Winner.Id == "b" && r.Leaderboard.Single(e => e.CandidateId == "a").Error == "out of memory"), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_DataCannotServe_FailsWithThePlansOwnMessageWithoutRetrying()
    {
        // Arrange: planning refuses the data (too few rows of a class), as a LeptonException the activity threw
        const string refusal = "Class 'r' of 'y' has 1 row; 3 stratified folds need at least 3 per class: add rows of 'r'.";
        var context = Context(Plan("a"), f => Ok(f, 0.9));
        TaskOptions? options = null;
        context.Setup(c => c.CallActivityAsync<TrainingPlan>(nameof(PrepareTraining), Request, It.IsAny<TaskOptions>()))
            .Callback<TaskName, object?, TaskOptions?>((_, _, o) => options = o)
            .ThrowsAsync(new TaskFailedException(nameof(PrepareTraining), 0, new TaskFailureDetails(typeof(Lepton.Errors.LeptonException).FullName!, refusal, null, null, null)));

        // Act
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new TrainingOrchestrator().RunAsync(context.Object, Request));

        // Assert: the run's error is the refusal itself, not the durable wrapper's "Task 'PrepareTraining' (#0) failed ...",
        // and the retry policy the call carried gives up on it at once
        Assert.Equal(refusal, e.Message);
        Assert.Same(ActivityRetry.Default, options);
        Assert.False(ActivityRetry.IsTransient(new TaskFailureDetails(typeof(Lepton.Errors.LeptonException).FullName!, refusal, null, null, null)));
        context.Verify(c => c.CallActivityAsync<FoldResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_NoCandidateSucceeds_FailsWithReasons()
    {
        var context = Context(Plan("a"), f => new FoldResult(f.Candidate.Id, f.Fold, new Dictionary<string, double>(), "bad data", 0));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new TrainingOrchestrator().RunAsync(context.Object, Request));

        Assert.Contains("a: bad data", e.Message);
    }

    [Fact]
    public async Task RunAsync_ManyFolds_NeverMoreThanTheParallelLimitInFlight()
    {
        // Arrange: 18 folds that finish only when the test releases them, one at a time
        var pending = new System.Collections.Concurrent.ConcurrentQueue<TaskCompletionSource<FoldResult>>();
        int started = 0, finished = 0, peak = 0;
        var context = Context(Plan(Enumerable.Range(0, 6).Select(i => $"c{i}").ToArray()), _ => throw new InvalidOperationException());
        context.Setup(c => c.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var done = new TaskCompletionSource<FoldResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                pending.Enqueue(done);
                peak = Math.Max(peak, Interlocked.Increment(ref started) - Volatile.Read(ref finished));
                return done.Task.ContinueWith(_ => Ok((FoldRequest)input!, 0.5), TaskScheduler.Default);
            });

        // Act
        Task<TrainingOutcome> run = new TrainingOrchestrator().RunAsync(context.Object, Request);
        while (!run.IsCompleted)
        {
            if (pending.TryDequeue(out TaskCompletionSource<FoldResult>? next))
            {
                Interlocked.Increment(ref finished);
                next.SetResult(null!);
            }

            await Task.Delay(1);
        }

        await run;

        // Assert
        Assert.Equal(18, started);
        Assert.Equal(TrainingOrchestrator.MaxParallelFolds, peak);
    }

    private static readonly DateTime Start = new(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);

    private static void Heavy(Mock<TaskOrchestrationContext> context, Task<HeavyTrainingResult> completion)
    {
        var ticket = new HeavyTrainingTicket("train-1-h", HeavyTrainingRule.EventName("h"), "acme/churn/runs/train-1/heavy/h/result.json");
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(Start);
        context.Setup(c => c.CallActivityAsync<HeavyTrainingTicket>(nameof(EnqueueHeavyTraining), It.IsAny<object?>(), It.IsAny<TaskOptions>())).ReturnsAsync(ticket);
        context.Setup(c => c.WaitForExternalEvent<HeavyTrainingResult>(ticket.EventName, It.IsAny<CancellationToken>())).Returns(completion);
        context.Setup(c => c.CallActivityAsync<HeavyTrainingResult?>(nameof(ReadHeavyTrainingResult), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync((HeavyTrainingResult?)null);
    }

    [Fact]
    public async Task RunAsync_HeavyCandidateCompletes_ItsFoldsCountAndItsArtifactIsRegisteredWithoutRetraining()
    {
        // Arrange: "h" goes to the worker and wins; "a" runs here
        TrainingPlan plan = Plan("a", "h") with { HeavyCandidates = ["h"], HeavyTimeout = TimeSpan.FromMinutes(10) };
        Mock<TaskOrchestrationContext> context = Context(plan, f => Ok(f, 0.7));
        var artifact = new TrainedArtifact("acme/churn/runs/train-1/heavy/h/model.onnx", "worker-sha", "params", [], ["false", "true"], 0, 200);
        var folds = Enumerable.Range(0, 3).Select(f => new FoldResult("h", f, new Dictionary<string, double> { ["auc"] = 0.95 }, null, 1)).ToList();
        Heavy(context, Task.FromResult(new HeavyTrainingResult("train-1-h", "h", folds, artifact, null, "cuda (H100)", 3)));
        context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource().Task);

        // Act
        await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert
        context.Verify(c => c.CallActivityAsync<FoldResult>(nameof(EvaluateCandidateFold), It.Is<FoldRequest>(r => r.Candidate.Id == "h"), It.IsAny<TaskOptions>()), Times.Never);
        context.Verify(c => c.CallActivityAsync<TrainedArtifact>(nameof(TrainFinalModel), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
        context.Verify(c => c.CallActivityAsync<ModelVersion>(nameof(RegisterModelVersion),
            It.Is<RegisterRequest>(r => r.Winner.Id == "h" && r.Artifact.OnnxSha256 == "worker-sha"), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_HeavyCandidateTimesOut_DeadLettersTheJobAndTheOthersGoOn()
    {
        // Arrange: the worker never answers; the timer fires
        TrainingPlan plan = Plan("a", "h") with { HeavyCandidates = ["h"], HeavyTimeout = TimeSpan.FromSeconds(10) };
        Mock<TaskOrchestrationContext> context = Context(plan, f => Ok(f, 0.7));
        Heavy(context, new TaskCompletionSource<HeavyTrainingResult>().Task);
        DateTime now = Start;
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => now);
        context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns<DateTime, CancellationToken>((at, _) =>
        {
            now = at;
            return Task.CompletedTask;
        });

        // Act
        TrainingOutcome outcome = await new TrainingOrchestrator().RunAsync(context.Object, Request);

        // Assert
        context.Verify(c => c.CallActivityAsync(nameof(DeadLetterHeavyTraining), It.Is<DeadLetterRequest>(r => r.Reason.Contains("did not finish")), It.IsAny<TaskOptions>()),
            Times.Once);
        context.Verify(c => c.CallActivityAsync<TrainedArtifact>(nameof(TrainFinalModel), It.Is<FinalTrainingRequest>(r => r.Winner.Id == "a"), It.IsAny<TaskOptions>()),
            Times.Once);
        Assert.Equal(0.7, outcome.MetricValue, 10);
    }
}
