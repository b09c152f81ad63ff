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
        context.Setup(c => c.CallActivityAsync<BatchPlan>(nameof(PlanBatchScoring), Request, It.IsAny<TaskOptions>()))
            .ReturnsAsync(new BatchPlan(Request, null, 20_000, [new BatchChunk(0, 0, 10_000), new BatchChunk(1, 10_000, 10_000)], []));
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 0), It.IsAny<TaskOptions>())).ReturnsAsync("b0");
        context.Setup(c => c.CallActivityAsync<string>(nameof(ScoreBatchChunk), It.Is<ChunkRequest>(r => r.Chunk.Index == 1), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(ScoreBatchChunk), 4, new TaskFailureDetails("IOException", "The staged chunk is gone.", null, null, null)));
        BatchPlan? reported = null;
        context.Setup(c => c.CallActivityAsync<string>(nameof(ReportBatchScoring), It.IsAny<BatchPlan>(), It.IsAny<TaskOptions>()))
            .Callback<TaskName, object?, TaskOptions?>((_, plan, _) => reported = (BatchPlan)plan!)
            .ReturnsAsync("out/churn/may.csv.report.txt");

        // Act
        BatchOutcome outcome = await new BatchScoringOrchestrator().RunAsync(context.Object, Request);

        // Assert: no commit; a report that gives the reason
        Assert.Equal("failed", outcome.Status);
        Assert.Contains("The staged chunk is gone.", Assert.Single(reported!.Problems));
        context.Verify(c => c.CallActivityAsync<string>(nameof(CommitBatchScoring), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }
}
