using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Orchestrations.Collaborations;
using Microsoft.DurableTask;
using Moq;

namespace Lepton.Tests.Unit.Orchestrations;

public class ContributionOrchestratorTests
{
    private static ContributionRequest Request(string method) =>
        new("contrib-1", "a", "c", "m", 1, method, 7, new SamplingOptions(10, 0.01, 0), "a/key:k");

    /// <summary>Glove game over three members: a and b hold left gloves, c the right one.</summary>
    private static double Glove(ulong s) => Math.Min(Coalitions.Size(s & 0b011), Coalitions.Size(s & 0b100));

    private static (Mock<TaskOrchestrationContext> Context, List<ulong> Evaluated) Context(string method)
    {
        var context = new Mock<TaskOrchestrationContext>();
        var evaluated = new List<ulong>();
        context.Setup(c => c.CallActivityAsync<ContributionPlayers>(nameof(PrepareContributionRun), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .ReturnsAsync(new ContributionPlayers(["a", "b", "c"], [100, 200, 300]));
        context.Setup(c => c.CallActivityAsync<CoalitionScore>(nameof(EvaluateCoalition), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                ulong mask = ((CoalitionRequest)input!).Mask;
                evaluated.Add(mask);
                return Task.FromResult(new CoalitionScore(mask, Glove(mask), Glove(mask), false, null));
            });
        context.Setup(c => c.CallActivityAsync<ContributionReport>(nameof(StoreContributionReport), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .Returns<TaskName, object?, TaskOptions?>((_, input, _) =>
            {
                var r = (ReportRequest)input!;
                double[] shares = Shares.Normalize(r.Values.Values);
                var members = new[] { "a", "b", "c" }.Select((m, i) => new MemberContribution(m, r.Values.Values[i], null, shares[i], 0)).ToList();
                return Task.FromResult(new ContributionReport(r.RunId, "c", "m", 1, method, true, 7, Request(method).Sampling, null, null, "accuracy", true, "",
                    0, 1, members, r.Coalitions.Count, [], r.CreatedAt, "a/key:k"));
            });
        return (context, evaluated);
    }

    [Fact]
    public async Task RunAsync_ExactShapley_EvaluatesEachCoalitionOnceAndReportsTheGameValues()
    {
        // Arrange
        (Mock<TaskOrchestrationContext> context, List<ulong> evaluated) = Context(AllocationMethods.Shapley);

        // Act
        ContributionOutcome outcome = await new ContributionOrchestrator().RunAsync(context.Object, Request(AllocationMethods.Shapley));

        // Assert
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (ulong)i), evaluated.Order());
        Assert.Equal([1.0 / 6, 1.0 / 6, 2.0 / 3], outcome.Members.Select(m => m.Value), new ToleranceComparer(1e-12));
        context.Verify(c => c.CallActivityAsync<ContributionReport>(nameof(StoreContributionReport),
            It.Is<ReportRequest>(r => r.Coalitions.Count == 8 && r.RunId == "contrib-1" && r.Values.Exact), It.IsAny<TaskOptions>()), Times.Once);
    }

    [Fact]
    public async Task RunAsync_LeaveOneOut_EvaluatesOnlyTheGrandCoalitionAndOneWithoutEachMember()
    {
        (Mock<TaskOrchestrationContext> context, List<ulong> evaluated) = Context(AllocationMethods.LeaveOneOut);

        ContributionOutcome outcome = await new ContributionOrchestrator().RunAsync(context.Object, Request(AllocationMethods.LeaveOneOut));

        Assert.Equal(new ulong[] { 0, 0b011, 0b101, 0b110, 0b111 }, evaluated.Order());
        Assert.Equal([0, 0, 100], outcome.Members.Select(m => Math.Round(m.Share, 9)));
    }

    [Fact]
    public async Task RunAsync_CoalitionRefusedItsData_FailsTheRunWithTheOwnersReason()
    {
        // Arrange: the activity was refused a member's data (grant revoked mid-run)
        (Mock<TaskOrchestrationContext> context, _) = Context(AllocationMethods.Shapley);
        var failure = new TaskFailureDetails(typeof(Lepton.Security.DataUseDeniedException).FullName!, "Member 'b' data 'd' may not be used for 'train': revoked.", null, null, null);
        context.Setup(c => c.CallActivityAsync<CoalitionScore>(nameof(EvaluateCoalition), It.IsAny<object?>(), It.IsAny<TaskOptions>()))
            .ThrowsAsync(new TaskFailedException(nameof(EvaluateCoalition), 3, failure));

        // Act
        Lepton.Security.DataUseDeniedException e = await Assert.ThrowsAsync<Lepton.Security.DataUseDeniedException>(
            () => new ContributionOrchestrator().RunAsync(context.Object, Request(AllocationMethods.Shapley)));

        // Assert
        Assert.Equal("Member 'b' data 'd' may not be used for 'train': revoked.", e.Message);
        context.Verify(c => c.CallActivityAsync<ContributionReport>(nameof(StoreContributionReport), It.IsAny<object?>(), It.IsAny<TaskOptions>()), Times.Never);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
