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
        var inner = new Mock<IOrchestrationService>();
        inner.Setup(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(workItem);
        inner.Setup(s => s.RenewTaskActivityWorkItemLockAsync(workItem)).ReturnsAsync(workItem);
        var service = new RenewingOrchestrationService(inner.Object, Visibility, NullLogger<RenewingOrchestrationService>.Instance);

        // Act: the activity runs until its lock was renewed three times, then completes
        TaskActivityWorkItem locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        bool renewed = await RenewalsReachAsync(inner, 3);
        await service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());
        int renewalsWhileRunning = Renewals(inner);
        await Task.Delay(Visibility * 2);

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
        var inner = new Mock<IOrchestrationService>();
        inner.Setup(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(workItem);
        inner.Setup(s => s.RenewTaskActivityWorkItemLockAsync(workItem)).ThrowsAsync(new InvalidOperationException("storage away"));
        var service = new RenewingOrchestrationService(inner.Object, Visibility, NullLogger<RenewingOrchestrationService>.Instance);

        // Act
        TaskActivityWorkItem locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        bool retried = await RenewalsReachAsync(inner, 2);
        await service.AbandonTaskActivityWorkItemAsync(locked);
        int renewals = Renewals(inner);
        await Task.Delay(Visibility * 2);

        // Assert: a failed renewal was tried again (not fatal), and the abandonment ended the renewals
        Assert.True(retried);
        inner.Verify(s => s.RenewTaskActivityWorkItemLockAsync(workItem), Times.Exactly(renewals));
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(workItem), Times.Once);
    }

    private static int Renewals(Mock<IOrchestrationService> inner) =>
        inner.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync));

    /// <summary>Waits (at most 10 s, for a loaded machine) until the lock was renewed <paramref name="count"/> times.</summary>
    private static async Task<bool> RenewalsReachAsync(Mock<IOrchestrationService> inner, int count)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (Renewals(inner) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return Renewals(inner) >= count;
    }
}
