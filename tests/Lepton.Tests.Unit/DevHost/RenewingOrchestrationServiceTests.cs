using DurableTask.Core;
using Lepton.DevHost.Durable;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Lepton.Tests.Unit.DevHost;

public class RenewingOrchestrationServiceTests
{
    private static readonly TimeSpan Visibility = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task LockNextTaskActivityWorkItem_ActivityOutlivesTheVisibilityTimeout_LockIsRenewedUntilCompleted()
    {
        // Arrange
        var workItem = new TaskActivityWorkItem { Id = "activity-1" };
        Mock<IOrchestrationService> inner = Provider(activityLimit: 1, () => workItem);
        inner.Setup(s => s.RenewTaskActivityWorkItemLockAsync(workItem)).ReturnsAsync(workItem);
        var service = new RenewingOrchestrationService(inner.Object, Visibility, 1, NullLogger<RenewingOrchestrationService>.Instance);

        // Act: the activity runs until its lock was renewed three times, then completes
        TaskActivityWorkItem locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        bool renewed = await RenewalsReachAsync(inner, 3);
        await service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());
        int renewalsWhileRunning = Renewals(inner);
        await Task.Delay(Visibility * 2);
        await service.StopAsync();

        // Assert: renewed while it ran, never after its completion
        Assert.True(renewed);
        inner.Verify(s => s.RenewTaskActivityWorkItemLockAsync(workItem), Times.Exactly(renewalsWhileRunning));
        inner.Verify(s => s.CompleteTaskActivityWorkItemAsync(workItem, It.IsAny<TaskMessage>()), Times.Once);
    }

    [Fact]
    public async Task AbandonTaskActivityWorkItemAsync_RenewalFails_StopsRenewingAndAbandons()
    {
        // Arrange: storage refuses the renewals
        var workItem = new TaskActivityWorkItem { Id = "activity-2" };
        Mock<IOrchestrationService> inner = Provider(activityLimit: 1, () => workItem);
        inner.Setup(s => s.RenewTaskActivityWorkItemLockAsync(workItem)).ThrowsAsync(new InvalidOperationException("storage away"));
        var service = new RenewingOrchestrationService(inner.Object, Visibility, 1, NullLogger<RenewingOrchestrationService>.Instance);

        // Act
        TaskActivityWorkItem locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        bool retried = await RenewalsReachAsync(inner, 2);
        await service.AbandonTaskActivityWorkItemAsync(locked);
        int renewals = Renewals(inner);
        await Task.Delay(Visibility * 2);
        await service.StopAsync();

        // Assert: a failed renewal was tried again (not fatal), and the abandonment ended the renewals
        Assert.True(retried);
        inner.Verify(s => s.RenewTaskActivityWorkItemLockAsync(workItem), Times.Exactly(renewals));
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(workItem), Times.Once);
    }

    [Fact]
    public async Task LockNextTaskActivityWorkItem_SeveralFetchesInFlight_LocksNoMoreThanTheActivityLimit()
    {
        // Arrange: an endless queue, three activities at once, two fetches in flight
        (RenewingOrchestrationService service, Func<int> taken) = OnEndlessQueue(activityLimit: 3, fetchesInFlight: 2, out _);

        // Act: the dispatcher takes one activity; the fetch loops fill the limit ahead of it; one completes
        TaskActivityWorkItem first = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        bool filled = await ReachesAsync(() => taken() >= 3);
        await Task.Delay(200);
        int lockedAtTheLimit = taken();
        await service.CompleteTaskActivityWorkItemAsync(first, new TaskMessage());
        bool refilled = await ReachesAsync(() => taken() >= 4);
        await service.StopAsync();

        // Assert: never more locked than the limit; a completion frees a slot for the next; the dispatcher is told one more
        Assert.True(filled);
        Assert.Equal(3, lockedAtTheLimit);
        Assert.True(refilled);
        Assert.Equal(4, service.MaxConcurrentTaskActivityWorkItems);
    }

    [Fact]
    public async Task StopAsync_FetchedButNotDispatched_IsAbandonedForTheNextHost()
    {
        // Arrange
        (RenewingOrchestrationService service, Func<int> taken) = OnEndlessQueue(activityLimit: 3, fetchesInFlight: 3, out Mock<IOrchestrationService> inner);
        TaskActivityWorkItem running = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        await ReachesAsync(() => taken() >= 3);

        // Act
        await service.StopAsync();

        // Assert: the two fetched ahead go back to the queue; the one a dispatcher runs is left to it; the provider stops
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(It.Is<TaskActivityWorkItem>(w => w.Id != running.Id)), Times.Exactly(2));
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(running), Times.Never);
        inner.Verify(s => s.StopAsync(), Times.Once);
    }

    /// <summary>The service over a provider whose queue always has another activity; <c>taken</c> counts those it handed out.</summary>
    private static (RenewingOrchestrationService Service, Func<int> Taken) OnEndlessQueue(int activityLimit, int fetchesInFlight, out Mock<IOrchestrationService> inner)
    {
        int taken = 0;
        inner = Provider(activityLimit, () => new TaskActivityWorkItem { Id = $"activity-{Interlocked.Increment(ref taken)}" });
        var service = new RenewingOrchestrationService(inner.Object, TimeSpan.FromMinutes(1), fetchesInFlight, NullLogger<RenewingOrchestrationService>.Instance);
        return (service, () => Volatile.Read(ref taken));
    }

    /// <summary>A provider with the given activity limit whose queue hands out <paramref name="next"/> once per call, first
    /// call only for a single fixed item (later calls wait, as an empty queue does, until the caller stops).</summary>
    private static Mock<IOrchestrationService> Provider(int activityLimit, Func<TaskActivityWorkItem> next)
    {
        var inner = new Mock<IOrchestrationService>();
        inner.SetupGet(s => s.MaxConcurrentTaskActivityWorkItems).Returns(activityLimit);
        TaskActivityWorkItem? single = null;
        inner.Setup(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .Returns((TimeSpan _, CancellationToken stop) =>
            {
                TaskActivityWorkItem item = next();
                if (ReferenceEquals(item, single))
                {
                    return EmptyQueueAsync(stop);
                }

                single = item;
                return Task.FromResult(item);
            });
        return inner;
    }

    private static async Task<TaskActivityWorkItem> EmptyQueueAsync(CancellationToken stop)
    {
        await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        return null!;
    }

    private static int Renewals(Mock<IOrchestrationService> inner) =>
        inner.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync));

    /// <summary>Waits (at most 10 s, for a loaded machine) until the lock was renewed <paramref name="count"/> times.</summary>
    private static Task<bool> RenewalsReachAsync(Mock<IOrchestrationService> inner, int count) => ReachesAsync(() => Renewals(inner) >= count);

    private static async Task<bool> ReachesAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return condition();
    }
}
