using System.Collections.Concurrent;
using System.Threading.Channels;
using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace Lepton.DevHost.Durable;

/// <summary>
/// The Azure Storage provider as the sidecar's dispatchers see it, plus two things the sidecar leaves out.
/// <para>Renewing the lock of an activity while it runs. The provider hides an activity's queue message for the work-item
/// visibility timeout; the Functions host renews it for as long as the activity runs, the sidecar's dispatcher never does.
/// Without renewal an activity longer than the timeout was handed out a second time while the first still ran, both
/// results came back, and after a kill -9 a run could stay "Running" for good. Each activity's lock is renewed every
/// third of the timeout from the moment it is taken until it is completed or abandoned.</para>
/// <para>Fetching activities several at a time. The sidecar's dispatcher keeps one fetch in flight, one queue round trip
/// per activity, which bounded a fan-out to the emulator's latency (about 200 a second) while neither process was busy.
/// Here <c>fetchesInFlight</c> loops take activity messages ahead of the dispatcher; together with the activities that
/// run, they never hold more than the provider's activity limit, so host.json's <c>maxConcurrentActivityFunctions</c>
/// still bounds what is locked and running. The dispatcher is told a limit one above it, so that it waits here for a
/// free slot instead of in its own 500 ms polling.</para>
/// Everything else is the provider's own.
/// </summary>
public sealed partial class RenewingOrchestrationService : IOrchestrationService
{
    private readonly IOrchestrationService _inner;
    private readonly TimeSpan _visibilityTimeout;
    private readonly int _fetchesInFlight;
    private readonly ILogger<RenewingOrchestrationService> _logger;
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Stop, Task Loop)> _renewals = new();
    private readonly SemaphoreSlim _activitySlots;
    private readonly Lock _fetchingGate = new();
    private Channel<TaskActivityWorkItem>? _fetched;
    private CancellationTokenSource? _stopFetching;
    private Task[] _fetchLoops = [];

    public RenewingOrchestrationService(IOrchestrationService inner, TimeSpan visibilityTimeout, int fetchesInFlight, ILogger<RenewingOrchestrationService> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fetchesInFlight, 1);
        _inner = inner;
        _visibilityTimeout = visibilityTimeout;
        _fetchesInFlight = Math.Min(fetchesInFlight, _inner.MaxConcurrentTaskActivityWorkItems);
        _logger = logger;
        _activitySlots = new SemaphoreSlim(_inner.MaxConcurrentTaskActivityWorkItems);
    }

    public int TaskOrchestrationDispatcherCount => _inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => _inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => _inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => _inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => _inner.MaxConcurrentTaskActivityWorkItems + 1;

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        await StartFetching().Reader.ReadAsync(cancellationToken);

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        try
        {
            await StopRenewingAsync(workItem);
            await _inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        }
        finally
        {
            _activitySlots.Release();
        }
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        try
        {
            await StopRenewingAsync(workItem);
            await _inner.AbandonTaskActivityWorkItemAsync(workItem);
        }
        finally
        {
            _activitySlots.Release();
        }
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => _inner.RenewTaskActivityWorkItemLockAsync(workItem);

    private Channel<TaskActivityWorkItem> StartFetching()
    {
        lock (_fetchingGate)
        {
            if (_fetched is null)
            {
                _fetched = Channel.CreateUnbounded<TaskActivityWorkItem>();
                _stopFetching = new CancellationTokenSource();
                _fetchLoops = Enumerable.Range(0, _fetchesInFlight).Select(_ => FetchUntilStoppedAsync(_fetched.Writer, _stopFetching.Token)).ToArray();
            }

            return _fetched;
        }
    }

    private async Task FetchUntilStoppedAsync(ChannelWriter<TaskActivityWorkItem> fetched, CancellationToken stop)
    {
        // Off the caller's thread: the first call comes from the dispatcher's loop.
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _activitySlots.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            TaskActivityWorkItem? workItem = null;
            try
            {
                workItem = await _inner.LockNextTaskActivityWorkItem(Timeout.InfiniteTimeSpan, stop);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                LogFetchFailed(e.Message);
                await DelayAsync(TimeSpan.FromSeconds(_inner.GetDelayInSecondsAfterOnFetchException(e)), stop);
            }
            catch (OperationCanceledException)
            {
            }

            if (workItem is null)
            {
                _activitySlots.Release();
                // The provider answers null only while it stops or for a message it already holds: no busy loop meanwhile.
                await DelayAsync(TimeSpan.FromMilliseconds(50), stop);
                continue;
            }

            var renewal = new CancellationTokenSource();
            _renewals[workItem.Id] = (renewal, RenewUntilStoppedAsync(workItem, renewal.Token));
            fetched.TryWrite(workItem);
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the fetch loops and gives back what they took but no dispatcher received, so it runs after a restart.</summary>
    private async Task StopFetchingAsync()
    {
        Channel<TaskActivityWorkItem>? fetched;
        Task[] loops;
        CancellationTokenSource? stop;
        lock (_fetchingGate)
        {
            (fetched, loops, stop) = (_fetched, _fetchLoops, _stopFetching);
            (_fetched, _fetchLoops, _stopFetching) = (null, [], null);
        }

        if (fetched is null)
        {
            return;
        }

        await stop!.CancelAsync();
        await Task.WhenAll(loops);
        stop.Dispose();
        fetched.Writer.TryComplete();
        while (fetched.Reader.TryRead(out TaskActivityWorkItem? unclaimed))
        {
            await AbandonTaskActivityWorkItemAsync(unclaimed);
        }
    }

    private async Task RenewUntilStoppedAsync(TaskActivityWorkItem workItem, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_visibilityTimeout / 3, stop);
                try
                {
                    await _inner.RenewTaskActivityWorkItemLockAsync(workItem);
                }
                catch (Exception e)
                {
                    if (stop.IsCancellationRequested)
                    {
                        // Failed while being stopped (the activity completed meanwhile): nothing left to renew, and the
                        // completion or abandonment that stopped it must not fail for it.
                        return;
                    }

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

    public Task StartAsync() => _inner.StartAsync();

    public async Task StopAsync()
    {
        await StopFetchingAsync();
        await _inner.StopAsync();
    }

    public async Task StopAsync(bool isForced)
    {
        await StopFetchingAsync();
        await _inner.StopAsync(isForced);
    }

    public Task CreateAsync() => _inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => _inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => _inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => _inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => _inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        _inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => _inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => _inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        _inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => _inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        _inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages,
            continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => _inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => _inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);


    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetching an activity work item failed ({Reason}); trying again after the provider's delay")]
    private partial void LogFetchFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lock of activity work item {WorkItem} failed ({Reason}); trying again")]
    private partial void LogRenewFailed(string workItem, string reason);
}
