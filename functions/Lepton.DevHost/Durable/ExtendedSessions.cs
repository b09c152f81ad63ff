using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace Lepton.DevHost.Durable;

/// <summary>
/// Extended sessions (host.json <c>extendedSessionsEnabled</c>) as the Functions host's dispatcher keeps them: after an
/// orchestration's episode, its session stays open and waits for the instance's next messages, so the next episode
/// starts from the history in memory. The sidecar's dispatcher releases every work item once it has run, and the
/// provider then reads the instance's whole history from the History table again for each new batch of messages — a
/// fan-out of 500 activities read a growing history (up to 480 KB) about seventy times, a load that grows with the square
/// of the fan-out. Here a released work item whose orchestration still runs is held instead: its session is asked for the
/// next messages (up to the provider's idle timeout, 30 s by default), and when they come the same work item is handed
/// to the dispatcher again. At most as many sessions are held as orchestrations may run at once.
/// </summary>
internal sealed partial class ExtendedSessions(IOrchestrationService inner, int maxHeld, ILogger logger)
{
    private readonly Channel<TaskOrchestrationWorkItem> _resumed = Channel.CreateUnbounded<TaskOrchestrationWorkItem>();
    // Work items the dispatcher abandoned (its execution failed): their session ends with the release that follows.
    private readonly ConditionalWeakTable<TaskOrchestrationWorkItem, object> _abandoned = [];
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _holds = [];
    private Task<TaskOrchestrationWorkItem>? _pendingLock;
    private bool _stopping;

    /// <summary>
    /// The next work item: a held session whose next messages came, or whatever the provider hands out. A provider fetch
    /// that loses the race stays pending for the next call (the dispatcher has one fetch loop), so no work item is lost.
    /// </summary>
    public async Task<TaskOrchestrationWorkItem> LockNextAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (_resumed.Reader.TryRead(out TaskOrchestrationWorkItem? resumed))
        {
            return resumed;
        }

        Task<TaskOrchestrationWorkItem> fetch = _pendingLock ??= inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<bool> resumable = _resumed.Reader.WaitToReadAsync(waiting.Token).AsTask();
        Task first = await Task.WhenAny(fetch, resumable);
        await waiting.CancelAsync();
        if (first == fetch || !_resumed.Reader.TryRead(out resumed))
        {
            _pendingLock = null;
            return await fetch;
        }

        return resumed;
    }

    public Task AbandonAsync(TaskOrchestrationWorkItem workItem)
    {
        _abandoned.AddOrUpdate(workItem, workItem);
        return inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
    }

    /// <summary>Holds the session of a work item whose orchestration goes on; releases it for real otherwise.</summary>
    public Task ReleaseAsync(TaskOrchestrationWorkItem workItem)
    {
        bool abandoned = _abandoned.Remove(workItem);
        // A state without its start event (a message for an instance that does not exist) has no status to read.
        bool goesOn = !abandoned && workItem.Session is not null
            && workItem.OrchestrationRuntimeState is { ExecutionStartedEvent: not null } state
            && state.OrchestrationStatus is OrchestrationStatus.Running or OrchestrationStatus.Pending or OrchestrationStatus.Suspended;
        lock (_gate)
        {
            if (!goesOn || _stopping || _holds.Count >= maxHeld)
            {
                return EndAsync(workItem);
            }

            Task hold = HoldAsync(workItem);
            if (!hold.IsCompleted)
            {
                _holds.Add(hold);
                _ = hold.ContinueWith(done => { lock (_gate) { _holds.Remove(done); } }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            return Task.CompletedTask;
        }
    }

    private async Task HoldAsync(TaskOrchestrationWorkItem workItem)
    {
        // Off the dispatcher's thread: its release returns at once, freeing its slot as before.
        await Task.Yield();
        try
        {
            IList<TaskMessage>? messages = await workItem.Session.FetchNewOrchestrationMessagesAsync(workItem);
            bool stopping;
            lock (_gate)
            {
                stopping = _stopping;
            }

            if (messages is null || stopping)
            {
                if (messages is not null)
                {
                    await inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
                }

                await EndAsync(workItem);
                return;
            }

            // Every event so far becomes a past event. DTFx's runtime state keeps past events in a list of their own, and
            // the sidecar sends the worker past and new events apart: clearing the new ones (as DTFx's own dispatcher
            // does, which replays from all events) would drop the last episode from the history the worker replays.
            OrchestrationRuntimeState previous = workItem.OrchestrationRuntimeState;
            workItem.OrchestrationRuntimeState = new OrchestrationRuntimeState(previous.Events) { Status = previous.Status };
            workItem.NewMessages = messages;
            workItem.IsExtendedSession = true;
            _resumed.Writer.TryWrite(workItem);
        }
        catch (Exception e)
        {
            // The provider stopped or dropped the session: its messages come back to the next fetch after their timeout.
            LogHoldEnded(workItem.InstanceId, e.Message);
            await EndAsync(workItem);
        }
    }

    private async Task EndAsync(TaskOrchestrationWorkItem workItem)
    {
        if (workItem.Session is { } session)
        {
            await session.EndSessionAsync();
        }

        await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
    }

    /// <summary>Before the provider stops: no more holds, and resumed work items no dispatcher took go back.</summary>
    public async Task StopHoldingAsync()
    {
        lock (_gate)
        {
            _stopping = true;
        }

        while (_resumed.Reader.TryRead(out TaskOrchestrationWorkItem? unclaimed))
        {
            await inner.AbandonTaskOrchestrationWorkItemAsync(unclaimed);
            await EndAsync(unclaimed);
        }
    }

    /// <summary>After the provider stopped (which ends the sessions' waits): the held sessions released, a fetch that won no race given back.</summary>
    public async Task StoppedAsync()
    {
        Task[] holds;
        lock (_gate)
        {
            holds = [.. _holds];
        }

        // A stopped provider ends the sessions' waits; a session it does not end is left to its idle timeout.
        await Task.WhenAny(Task.WhenAll(holds), Task.Delay(TimeSpan.FromSeconds(5)));
        await StopHoldingAsync();
        if (_pendingLock is { IsCompletedSuccessfully: true, Result: { } unclaimed })
        {
            await inner.AbandonTaskOrchestrationWorkItemAsync(unclaimed);
            await EndAsync(unclaimed);
        }

        _pendingLock = null;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Extended session of {InstanceId} ended: {Reason}")]
    private partial void LogHoldEnded(string instanceId, string reason);
}
