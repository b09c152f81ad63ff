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

        // Act: the activity runs for more than two visibility timeouts, then completes
        TaskActivityWorkItem locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        await Task.Delay(Visibility * 2.5);
        await service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());
        int renewalsWhileRunning = inner.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync));
        await Task.Delay(Visibility * 2);

        // Assert: renewed while it ran (each third of the timeout), never after its completion
        Assert.InRange(renewalsWhileRunning, 3, 10);
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
        await Task.Delay(Visibility);
        await service.AbandonTaskActivityWorkItemAsync(locked);
        int renewals = inner.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync));
        await Task.Delay(Visibility);

        // Assert: the failures were tried again, not fatal, and ended with the abandonment
        Assert.True(renewals >= 1);
        inner.Verify(s => s.RenewTaskActivityWorkItemLockAsync(workItem), Times.Exactly(renewals));
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(workItem), Times.Once);
    }
}
