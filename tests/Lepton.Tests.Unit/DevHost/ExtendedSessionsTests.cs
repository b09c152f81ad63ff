using DurableTask.Core;
using DurableTask.Core.History;
using Lepton.DevHost.Durable;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Lepton.Tests.Unit.DevHost;

/// <summary>Extended sessions as the sidecar's dispatcher meets them through <see cref="RenewingOrchestrationService"/>.</summary>
public class ExtendedSessionsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReleaseTaskOrchestrationWorkItemAsync_OrchestrationGoesOn_NextMessagesResumeTheWorkItemWithEveryEventPast()
    {
        // Arrange: an episode just ran (its events are new ones); the session's next message is an activity's result
        var provider = new Provider();
        TaskOrchestrationWorkItem workItem = provider.Running("fan-out");
        var result = new TaskMessage { Event = new TaskCompletedEvent(-1, 0, "42"), OrchestrationInstance = workItem.OrchestrationRuntimeState.OrchestrationInstance };
        provider.NextMessages(workItem, [result]);
        List<HistoryEvent> history = [.. workItem.OrchestrationRuntimeState.Events];

        // Act
        await provider.Service.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        TaskOrchestrationWorkItem resumed = await provider.Service.LockNextTaskOrchestrationWorkItemAsync(Wait, CancellationToken.None).WaitAsync(Wait);

        // Assert: the same work item, not released to the provider (no history read again), with the last episode's
        // events among the past ones the worker replays and only the new message to add
        Assert.Same(workItem, resumed);
        Assert.Equal([result], resumed.NewMessages);
        Assert.Equal(history, resumed.OrchestrationRuntimeState.PastEvents);
        Assert.Empty(resumed.OrchestrationRuntimeState.NewEvents);
        Assert.Equal("step 1", resumed.OrchestrationRuntimeState.Status);
        provider.Inner.Verify(s => s.ReleaseTaskOrchestrationWorkItemAsync(It.IsAny<TaskOrchestrationWorkItem>()), Times.Never);
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("no start event")]
    [InlineData("abandoned")]
    public async Task ReleaseTaskOrchestrationWorkItemAsync_SessionCannotGoOn_ReleasedAtOnce(string why)
    {
        // Arrange: a finished orchestration; a message for an instance with no history (no status to read); an episode
        // that failed (a conflict, a worker error), which the dispatcher abandons before it releases
        var provider = new Provider();
        TaskOrchestrationWorkItem workItem = provider.Running(why);
        switch (why)
        {
            case "completed":
                workItem.OrchestrationRuntimeState.AddEvent(new ExecutionCompletedEvent(2, "\"out\"", OrchestrationStatus.Completed));
                break;
            case "no start event":
                workItem.OrchestrationRuntimeState = new OrchestrationRuntimeState();
                break;
            default:
                await provider.Service.AbandonTaskOrchestrationWorkItemAsync(workItem);
                break;
        }

        // Act
        await provider.Service.ReleaseTaskOrchestrationWorkItemAsync(workItem);

        // Assert: released to the provider (its messages, if any, come back through its queue), the session never asked for more
        provider.Inner.Verify(s => s.ReleaseTaskOrchestrationWorkItemAsync(workItem), Times.Once);
        provider.Session(workItem).Verify(s => s.FetchNewOrchestrationMessagesAsync(It.IsAny<TaskOrchestrationWorkItem>()), Times.Never);
    }

    [Fact]
    public async Task ReleaseTaskOrchestrationWorkItemAsync_NoMessagesWithinTheIdleTimeout_SessionEnds()
    {
        // Arrange: the session's wait ends without messages (the provider's idle timeout)
        var provider = new Provider();
        TaskOrchestrationWorkItem workItem = provider.Running("idle");
        provider.NextMessages(workItem, null);

        // Act
        await provider.Service.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        bool released = await ReachesAsync(() => provider.Releases(workItem) == 1);

        // Assert
        Assert.True(released);
        provider.Session(workItem).Verify(s => s.EndSessionAsync(), Times.Once);
    }

    [Fact]
    public async Task LockNextTaskOrchestrationWorkItemAsync_ResumedSessionWinsTheRace_ProviderFetchServedOnTheNextCall()
    {
        // Arrange: the provider's fetch is pending when a held session's messages come
        var provider = new Provider();
        TaskOrchestrationWorkItem held = provider.Running("held");
        provider.NextMessages(held, [new TaskMessage { Event = new TaskCompletedEvent(-1, 0, "1"), OrchestrationInstance = held.OrchestrationRuntimeState.OrchestrationInstance }]);
        var fetch = new TaskCompletionSource<TaskOrchestrationWorkItem>();
        provider.Inner.Setup(s => s.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).Returns(fetch.Task);
        Task<TaskOrchestrationWorkItem> first = provider.Service.LockNextTaskOrchestrationWorkItemAsync(Wait, CancellationToken.None);

        // Act: the session resumes first; then the provider's fetch yields another instance's work item
        await provider.Service.ReleaseTaskOrchestrationWorkItemAsync(held);
        TaskOrchestrationWorkItem resumed = await first.WaitAsync(Wait);
        TaskOrchestrationWorkItem other = provider.Running("other");
        fetch.SetResult(other);
        TaskOrchestrationWorkItem next = await provider.Service.LockNextTaskOrchestrationWorkItemAsync(Wait, CancellationToken.None).WaitAsync(Wait);

        // Assert: both reach the dispatcher, through one provider fetch
        Assert.Same(held, resumed);
        Assert.Same(other, next);
        provider.Inner.Verify(s => s.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task StopAsync_ResumedButNotDispatched_AbandonedAndReleased()
    {
        // Arrange: a session resumed with a message no dispatcher took before the host stops
        var provider = new Provider();
        TaskOrchestrationWorkItem workItem = provider.Running("stopping");
        provider.NextMessages(workItem, [new TaskMessage { Event = new TaskCompletedEvent(-1, 0, "1"), OrchestrationInstance = workItem.OrchestrationRuntimeState.OrchestrationInstance }]);
        await provider.Service.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        await ReachesAsync(() => provider.Session(workItem).Invocations.Count > 0);
        await Task.Delay(100);

        // Act
        await provider.Service.StopAsync();

        // Assert: its message goes back to the queue for the next host, its session ends
        provider.Inner.Verify(s => s.AbandonTaskOrchestrationWorkItemAsync(workItem), Times.Once);
        provider.Inner.Verify(s => s.ReleaseTaskOrchestrationWorkItemAsync(workItem), Times.Once);
        provider.Inner.Verify(s => s.StopAsync(), Times.Once);
    }

    private static async Task<bool> ReachesAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.Add(Wait);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return condition();
    }

    /// <summary>A provider with extended sessions on: each work item has a session of its own.</summary>
    private sealed class Provider
    {
        private readonly Dictionary<TaskOrchestrationWorkItem, Mock<IOrchestrationSession>> _sessions = [];

        public Provider()
        {
            Inner.SetupGet(s => s.MaxConcurrentTaskActivityWorkItems).Returns(4);
            Inner.SetupGet(s => s.MaxConcurrentTaskOrchestrationWorkItems).Returns(4);
            Inner.Setup(s => s.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
                .Returns(new TaskCompletionSource<TaskOrchestrationWorkItem>().Task);
            Service = new RenewingOrchestrationService(Inner.Object, TimeSpan.FromMinutes(1), 1, NullLogger<RenewingOrchestrationService>.Instance);
        }

        public Mock<IOrchestrationService> Inner { get; } = new();

        public RenewingOrchestrationService Service { get; }

        /// <summary>A work item whose episode just ran: started, scheduled an activity, set a custom status.</summary>
        public TaskOrchestrationWorkItem Running(string instanceId)
        {
            var instance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = "e1" };
            var state = new OrchestrationRuntimeState([
                new OrchestratorStartedEvent(-1),
                new ExecutionStartedEvent(-1, "\"in\"") { Name = "FanOut", OrchestrationInstance = instance },
            ]);
            state.AddEvent(new OrchestratorStartedEvent(-1));
            state.AddEvent(new TaskScheduledEvent(0, "Work"));
            state.Status = "step 1";
            var session = new Mock<IOrchestrationSession>();
            session.Setup(s => s.FetchNewOrchestrationMessagesAsync(It.IsAny<TaskOrchestrationWorkItem>())).Returns(new TaskCompletionSource<IList<TaskMessage>?>().Task);
            session.Setup(s => s.EndSessionAsync()).Returns(Task.CompletedTask);
            var workItem = new TaskOrchestrationWorkItem { InstanceId = instanceId, OrchestrationRuntimeState = state, Session = session.Object, NewMessages = [] };
            _sessions[workItem] = session;
            return workItem;
        }

        public void NextMessages(TaskOrchestrationWorkItem workItem, IList<TaskMessage>? messages) =>
            Session(workItem).Setup(s => s.FetchNewOrchestrationMessagesAsync(workItem)).ReturnsAsync(messages);

        public Mock<IOrchestrationSession> Session(TaskOrchestrationWorkItem workItem) => _sessions[workItem];

        public int Releases(TaskOrchestrationWorkItem workItem) =>
            Inner.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.ReleaseTaskOrchestrationWorkItemAsync) && ReferenceEquals(i.Arguments[0], workItem));
    }
}
