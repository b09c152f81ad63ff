using Lepton.Runs;
using Lepton.Datasets;
using Lepton.Ingestion;
using Lepton.Orchestrations.Ingestion;
using Microsoft.DurableTask;
using Moq;

namespace Lepton.Tests.Unit.Orchestrations;

public class IngestOrchestratorTests
{
    private static readonly IngestRequest Request = new("acme", "tenantstore01", "sales/jan.csv", "0x1", "sales", "jan.csv", "ingest-1");

    private const string AnalysisBlob = "_runs/ingest-1/analysis.json";

    private static AnalysisSummary Analysis(params IngestProblem[] problems) => new(AnalysisBlob, "hash", 2, problems, null);

    /// <summary>A context whose run gets an ingest slot at once.</summary>
    private static Mock<TaskOrchestrationContext> SlotGranted()
    {
        var context = new Mock<TaskOrchestrationContext>();
        context.Setup(c => c.CallActivityAsync<IngestSlotDecision>(nameof(ReserveIngestSlot), It.IsAny<IngestSlotRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new IngestSlotDecision(true));
        return context;
    }

    private static CleanedVersion Cleaned(int version, params IngestProblem[] problems) => new(version, 2, problems.Length == 0 ? 2 : 0, problems);

    [Fact]
    public async Task RunAsync_ValidFile_AnalyzesCleansAndPublishes()
    {
        // Arrange
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis());
        context.Setup(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.Is<CleanRequest>(r => r.AnalysisBlob == AnalysisBlob), It.IsAny<TaskOptions>()))
            .ReturnsAsync(Cleaned(3));
        context.Setup(c => c.CallActivityAsync<DatasetVersionRecord>(nameof(PublishDatasetVersion), It.Is<PublishRequest>(p => p.Cleaned.Version == 3 && p.AnalysisBlob == AnalysisBlob), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new DatasetVersionRecord("sales", 3, "ingest-1", default, 2, 1, "sales/jan.csv", "0x1", "hash", "sales/v3/data.csv", null, null));

        // Act
        IngestOutcome outcome = await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal((IngestRunStatus.Published, 3, 2L), (outcome.Status, outcome.Version!.Value, outcome.RowsOut));
        context.Verify(c => c.CallActivityAsync<string>(nameof(RejectSource), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_StepFailsForGood_RejectsWithAReportInsteadOfStayingAccepted()
    {
        // Arrange: cleaning fails after its retries with an error of the platform's (its message is not for callers)
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis());
        context.Setup(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(CleanSource), 5, new TaskFailureDetails("System.ArgumentException", "internal detail", null, null, null)));
        RejectRequest? rejected = null;
        context.Setup(c => c.CallActivityAsync<string>(nameof(RejectSource), It.IsAny<RejectRequest>(), It.IsAny<TaskOptions>()))
            .Callback<TaskName, object?, TaskOptions?>((_, r, _) => rejected = (RejectRequest)r!)
            .ReturnsAsync("sales/ingest-1/report.txt");

        // Act
        IngestOutcome outcome = await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert: rejected with a report that names the run and not the internal message; nothing published; slot released
        Assert.Equal(IngestRunStatus.Rejected, outcome.Status);
        IngestProblem problem = Assert.Single(rejected!.Problems);
        Assert.Equal("platform-failure", problem.Code);
        Assert.Contains("ingest-1", problem.Message);
        Assert.DoesNotContain("internal detail", problem.Message);
        context.Verify(c => c.CallActivityAsync<DatasetVersionRecord>(nameof(PublishDatasetVersion), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
        context.Verify(c => c.CallActivityAsync(nameof(ReleaseIngestSlot), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_RejectedByAnalysis_WritesReportAndSkipsCleaning()
    {
        // Arrange
        var problem = new IngestProblem("empty", "The file is empty.", []);
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis(problem));
        context.Setup(c => c.CallActivityAsync<string>(nameof(RejectSource), It.Is<RejectRequest>(r => r.Problems.Single() == problem && r.AllocatedVersion == null), It.IsAny<TaskOptions>()))
            .ReturnsAsync("sales/ingest-1/report.txt");

        // Act
        IngestOutcome outcome = await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal(IngestRunStatus.Rejected, outcome.Status);
        Assert.Equal("sales/ingest-1/report.txt", outcome.ReportBlob);
        context.Verify(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_NothingSurvivesCleaning_RejectsAndReleasesVersion()
    {
        // Arrange
        var problem = new IngestProblem("no-rows-left", "No row survived cleaning.", []);
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis());
        context.Setup(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.IsAny<CleanRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(Cleaned(4, problem));
        context.Setup(c => c.CallActivityAsync<string>(nameof(RejectSource), It.Is<RejectRequest>(r => r.AllocatedVersion == 4), It.IsAny<TaskOptions>()))
            .ReturnsAsync("report");

        // Act
        IngestOutcome outcome = await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal(IngestRunStatus.Rejected, outcome.Status);
        context.Verify(c => c.CallActivityAsync<DatasetVersionRecord>(nameof(PublishDatasetVersion), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    [Fact]
    public async Task RunAsync_EachStep_ReportsProgress()
    {
        // Arrange
        var statuses = new List<RunProgress>();
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback<object?>(s => statuses.Add((RunProgress)s!));
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis());
        context.Setup(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.IsAny<CleanRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(Cleaned(1));
        context.Setup(c => c.CallActivityAsync<DatasetVersionRecord>(nameof(PublishDatasetVersion), It.IsAny<PublishRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new DatasetVersionRecord("sales", 1, "ingest-1", default, 2, 1, "", "", "", "", null, null));

        // Act
        await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert
        Assert.Equal(["analyzing", "cleaning", "publishing", "published"], statuses.Select(s => s.Stage));
        Assert.Equal(3, statuses[^1].Done);
    }

    [Fact]
    public async Task RunAsync_TenantHasNoFreeSlot_WaitsOnDurableTimersThenIngestsAndGivesTheSlotBack()
    {
        // Arrange: two refusals (the tenant's other files first), then a slot
        var statuses = new List<RunProgress>();
        var context = new Mock<TaskOrchestrationContext>();
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback<object?>(s => statuses.Add((RunProgress)s!));
        context.SetupSequence(c => c.CallActivityAsync<IngestSlotDecision>(nameof(ReserveIngestSlot), It.Is<IngestSlotRequest>(r => r.RunId == "ingest-1" && r.TenantId == "acme"), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new IngestSlotDecision(false, 4, 7))
            .ReturnsAsync(new IngestSlotDecision(false, 2, 1))
            .ReturnsAsync(new IngestSlotDecision(true));
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>())).ReturnsAsync(Analysis());
        context.Setup(c => c.CallActivityAsync<CleanedVersion>(nameof(CleanSource), It.IsAny<CleanRequest>(), It.IsAny<TaskOptions>())).ReturnsAsync(Cleaned(1));
        context.Setup(c => c.CallActivityAsync<DatasetVersionRecord>(nameof(PublishDatasetVersion), It.IsAny<PublishRequest>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new DatasetVersionRecord("sales", 1, "ingest-1", default, 2, 1, "", "", "", "", null, null));

        // Act
        IngestOutcome outcome = await new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert: queued while refused, timers of the waits asked for, the slot given back once at the end
        Assert.Equal(IngestRunStatus.Published, outcome.Status);
        Assert.Equal(["queued", "queued", "analyzing"], statuses.Take(3).Select(s => s.Stage));
        context.Verify(c => c.CreateTimer(TimeSpan.FromSeconds(4), It.IsAny<CancellationToken>()), Times.Once);
        context.Verify(c => c.CreateTimer(TimeSpan.FromSeconds(2), It.IsAny<CancellationToken>()), Times.Once);
        context.Verify(c => c.CallActivityAsync(nameof(ReleaseIngestSlot), It.Is<IngestSlotRequest>(r => r.RunId == "ingest-1"), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_StepFails_GivesTheSlotBackAndFails()
    {
        // Arrange
        Mock<TaskOrchestrationContext> context = SlotGranted();
        context.Setup(c => c.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), Request, It.IsAny<TaskOptions>()))
            .ThrowsAsync(new InvalidOperationException("storage gone"));

        // Act
        Task run = new IngestOrchestrator().RunAsync(context.Object, Request);

        // Assert
        await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        context.Verify(c => c.CallActivityAsync(nameof(ReleaseIngestSlot), It.IsAny<IngestSlotRequest>(), It.IsAny<TaskOptions>()), Times.Once);
    }
}
