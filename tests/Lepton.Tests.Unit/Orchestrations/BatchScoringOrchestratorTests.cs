using Lepton.Orchestrations.Prediction;
using Lepton.Prediction;
using Microsoft.DurableTask;
using Moq;

namespace Lepton.Tests.Unit.Orchestrations;

public class BatchScoringOrchestratorTests
{
    private static readonly BatchRequest Request = new("acme", "in/churn/may.csv", "0x1", "churn", "may.csv", "score-1");

    [Fact]
    public async Task RunAsync_ReportedProblems_WritesReportAndScoresNothing()
    {
        // Arrange
        var context = new Mock<TaskOrchestrationContext>();
        context.Setup(c => c.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), Request, It.IsAny<TaskOptions>()))
            .ReturnsAsync(new BatchPlan(Request, null, 0, [], ["There is no model 'churn'."]));
        context.Setup(c => c.CallActivityAsync<string>(nameof(ReportBatchScoring), It.IsAny<BatchPlan>(), It.IsAny<TaskOptions>())).ReturnsAsync("out/churn/may.csv.report.txt");

        // Act
        BatchOutcome outcome = await new BatchScoringOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal(("rejected", "out/churn/may.csv.report.txt"), (outcome.Status, outcome.Output));
        context.Verify(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_ChunkFailsAfterItsRetries_WritesReportWithTheReason()
    {
        // Arrange: a plan of two chunks; the second chunk's activity fails for good
        var context = new Mock<TaskOrchestrationContext>();
        PlanTwoChunks(context);
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 0), It.IsAny<TaskOptions>())).ReturnsAsync("b0");
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 1), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(ScoreBatchChunk), 4, new TaskFailureDetails("IOException", "The staged chunk is gone.", null, null, null)));
        Func<BatchPlan?> reported = CaptureReport(context);

        // Act
        BatchOutcome outcome = await new BatchScoringOrchestrator().RunAsync(context.Object, Request);

        // Assert: no commit; a report that gives the reason
        Assert.Equal("failed", outcome.Status);
        Assert.Contains("The staged chunk is gone.", Assert.Single(reported()!.Problems));
        context.Verify(c => c.CallActivityAsync<BatchCommit>(nameof(CommitBatchScoring), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_ChunkHasRowsTheModelCannotScore_RejectsTheFileWithThoseRows()
    {
        // Arrange: the second chunk holds rows the model cannot score, which its activity reports as the caller's data
        const string rows = "The model cannot score 1 row(s) of the file (data row 1002): its arithmetic gives no number.";
        var context = new Mock<TaskOrchestrationContext>();
        PlanTwoChunks(context);
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 0), It.IsAny<TaskOptions>())).ReturnsAsync("b0");
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 1), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(ScoreBatchChunk), 4, new TaskFailureDetails(typeof(Lepton.Errors.LeptonException).FullName!, rows, null, null, null)));
        Func<BatchPlan?> reported = CaptureReport(context);

        // Act
        BatchOutcome outcome = await new BatchScoringOrchestrator().RunAsync(context.Object, Request);

        // Assert: rejected with the rows, not "stopped on the platform's side ... upload again"; nothing committed
        Assert.Equal("rejected", outcome.Status);
        Assert.Equal([rows], reported()!.Problems);
        context.Verify(c => c.CallActivityAsync<BatchCommit>(nameof(CommitBatchScoring), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_FileReplacedWhileScored_ReportsWhyAndPublishesNothing()
    {
        // Arrange: both chunks scored, then the commit finds that the partner replaced the file meanwhile
        var context = new Mock<TaskOrchestrationContext>();
        PlanTwoChunks(context);
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.IsAny<ChunkRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync((TaskName _, object? r, TaskOptions? _) => $"b{((ChunkRequest)r!).Chunk.Index}");
        const string replaced = "The file was replaced while it was being scored; the new upload is scored on its own.";
        CommitRequest? commit = null;
        context.Setup(c => c.CallActivityAsync<BatchCommit>(nameof(CommitBatchScoring), It.IsAny<CommitRequest>(), It.IsAny<TaskOptions>()))
            .Callback<TaskName, object?, TaskOptions?>((_, r, _) => commit = (CommitRequest)r!)
            .ReturnsAsync(new BatchCommit(null, [replaced]));
        // the report activity writes none for a replaced file: the newer upload's run answers for the name
        Func<BatchPlan?> reported = CaptureReport(context, report: null);

        // Act
        BatchOutcome outcome = await new BatchScoringOrchestrator().RunAsync(context.Object, Request);

        // Assert: the blocks went to the commit in order; the run ends superseded, with the reason, and publishes nothing
        Assert.Equal(["b0", "b1"], commit!.BlockIds);
        Assert.Equal((BatchScoringOrchestrator.Superseded, null, 0L), (outcome.Status, outcome.Output, outcome.Rows));
        Assert.Equal([replaced], outcome.Problems);
        Assert.Equal([replaced], reported()!.Problems);
    }

    [Fact]
    public void BlockId_TwoRunsOfOneFile_DifferWithTheSameLength()
    {
        // Act
        string[] ids = [BatchScoring.BlockId("score-1", 0), BatchScoring.BlockId("score-1", 1), BatchScoring.BlockId("score-2", 0), BatchScoring.BlockId("a much longer run id than the others", 0)];

        // Assert: distinct per run and chunk, stable, and one length (a blob's block ids must all have the same length)
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(ids[0], BatchScoring.BlockId("score-1", 0));
        Assert.Single(ids.Select(id => id.Length).Distinct());
    }

    private static void PlanTwoChunks(Mock<TaskOrchestrationContext> context) =>
        context.Setup(c => c.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), Request, It.IsAny<TaskOptions>()))
            .ReturnsAsync(new BatchPlan(Request, null, 20_000, [new BatchChunk(0, 0, 10_000), new BatchChunk(1, 10_000, 10_000)], []));

    /// <summary>Answers the report activity; the returned function gives the plan it was called with.</summary>
    private static Func<BatchPlan?> CaptureReport(Mock<TaskOrchestrationContext> context, string? report = "out/churn/may.csv.report.txt")
    {
        BatchPlan? reported = null;
        context.Setup(c => c.CallActivityAsync<string?>(nameof(ReportBatchScoring), It.IsAny<BatchPlan>(), It.IsAny<TaskOptions>()))
            .Callback<TaskName, object?, TaskOptions?>((_, plan, _) => reported = (BatchPlan)plan!)
            .ReturnsAsync(report);
        return () => reported;
    }
}
