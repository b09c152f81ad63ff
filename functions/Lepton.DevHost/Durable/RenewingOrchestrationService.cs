using System.Collections.Concurrent;
using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace Lepton.DevHost.Durable;

/// <summary>
/// The Azure Storage provider as the sidecar's dispatchers see it, plus what the sidecar leaves out: renewing the lock of
/// an activity while it runs. The provider hides an activity's queue message for the work-item visibility timeout; the
/// Functions host renews it for as long as the activity runs, the sidecar's dispatcher never does. Without renewal an
/// activity longer than the timeout was handed out a second time while the first still ran, both results came back, and
/// after a kill -9 a run could stay "Running" for good. Each activity's lock is renewed every third of the timeout until
/// it is completed or abandoned; everything else is the provider's own.
/// </summary>
public sealed partial class RenewingOrchestrationService(IOrchestrationService inner, TimeSpan visibilityTimeout, ILogger<RenewingOrchestrationService> logger)
    : IOrchestrationService
{
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Stop, Task Loop)> _renewals = new();

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        TaskActivityWorkItem workItem = await inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
        if (workItem is not null)
        {
            var stop = new CancellationTokenSource();
            _renewals[workItem.Id] = (stop, RenewUntilStoppedAsync(workItem, stop.Token));
        }

        return workItem!;
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await StopRenewingAsync(workItem);
        await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await StopRenewingAsync(workItem);
        await inner.AbandonTaskActivityWorkItemAsync(workItem);
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    private async Task RenewUntilStoppedAsync(TaskActivityWorkItem workItem, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(visibilityTimeout / 3, stop);
                try
                {
                    await inner.RenewTaskActivityWorkItemLockAsync(workItem);
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    // Storage away for a moment: the next attempt comes before the lock runs out.
                    LogRenewFailed(workItem.Id, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task StopRenewingAsync(TaskActivityWorkItem workItem)
    {
        // Stopped before the completion, so a renewal never races the delete that uses the message's latest receipt.
        if (_renewals.TryRemove(workItem.Id, out (CancellationTokenSource Stop, Task Loop) renewal))
        {
            await renewal.Stop.CancelAsync();
            await renewal.Loop;
            renewal.Stop.Dispose();
        }
    }

    public Task StartAsync() => inner.StartAsync();

    public Task StopAsync() => inner.StopAsync();

    public Task StopAsync(bool isForced) => inner.StopAsync(isForced);

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages,
            continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lock of activity work item {WorkItem} failed ({Reason}); trying again")]
    private partial void LogRenewFailed(string workItem, string reason);
}
