using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations;

/// <summary>
/// Retry policy shared by every activity call: transient faults are retried. Two failures are final at once, since a
/// retry meets the same answer: a refused data use (a revoked grant: the owner's decision), and a
/// <see cref="Lepton.Errors.LeptonException"/> (the request or the data cannot serve, e.g. too few rows for the folds) —
/// retrying those only kept the caller waiting for the same message, seven seconds later.
/// </summary>
public static class ActivityRetry
{
    public static TaskOptions Default { get; } =
        TaskOptions.FromRetryPolicy(new RetryPolicy(maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2)
        {
            HandleFailure = IsTransient,
        });

    /// <summary>True when the activity was refused a member's data (<see cref="Lepton.Security.DataUseDeniedException"/>).</summary>
    public static bool IsDataUseDenied(TaskFailureDetails? failure) =>
        failure?.ErrorType == typeof(Lepton.Security.DataUseDeniedException).FullName;

    /// <summary>Whether a retry could end differently: anything but a refused data use or the platform's own caller-facing error.</summary>
    public static bool IsTransient(TaskFailureDetails? failure) =>
        !IsDataUseDenied(failure) && failure?.ErrorType != typeof(Lepton.Errors.LeptonException).FullName;
}

public static class DurableClientExtensions
{
    /// <summary>
    /// Starts an orchestration under a deterministic id unless it already exists: a redelivered event or a retried
    /// activity finds the run instead of starting a second one. True when this call started it.
    /// </summary>
    /// <summary>Whether the instance exists and has not ended (running, pending or suspended).</summary>
    public static async Task<bool> IsRunningAsync(this DurableTaskClient client, string instanceId, CancellationToken ct) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is
        {
            RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended,
        };

    public static async Task<bool> ScheduleOnceAsync(this DurableTaskClient client, string orchestrator, object input, string instanceId, CancellationToken ct)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is not null)
        {
            return false;
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId), ct);
            return true;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // Two callers raced past the check above. Which exception a host throws for "already exists" differs (gRPC
            // status on one, a wrapped provider exception on another), so ask the store rather than read the message.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct) is not null)
            {
                return false;
            }

            throw;
        }
    }
}

/// <summary>Fan-out with a bounded number of activities in flight; deterministic, so orchestrators can use it.</summary>
public static class BoundedFanOut
{
    public static async Task<List<TResult>> RunAsync<TItem, TResult>(
        IReadOnlyList<TItem> items, int maxInFlight, Func<TItem, Task<TResult>> start, Action<IReadOnlyList<TResult>>? progress = null)
    {
        var results = new List<TResult>(items.Count);
        var running = new List<Task<TResult>>();
        foreach (TItem item in items)
        {
            if (running.Count == maxInFlight)
            {
                await CompleteOneAsync(running, results, progress);
            }

            running.Add(start(item));
        }

        while (running.Count > 0)
        {
            await CompleteOneAsync(running, results, progress);
        }

        return results;
    }

    private static async Task CompleteOneAsync<TResult>(List<Task<TResult>> running, List<TResult> results, Action<IReadOnlyList<TResult>>? progress)
    {
        Task<TResult> done = await Task.WhenAny(running);
        running.Remove(done);
        results.Add(await done);
        progress?.Invoke(results);
    }
}

/// <summary>Activity calls whose failure fails the run with the activity's own message, not the durable wrapper's.</summary>
public static class DurableCalls
{
    public static async Task<T> CallAsync<T>(TaskOrchestrationContext context, string activity, object input)
    {
        try
        {
            return await context.CallActivityAsync<T>(activity, input, ActivityRetry.Default);
        }
        catch (TaskFailedException e) when (ActivityRetry.IsDataUseDenied(e.FailureDetails))
        {
            throw new Lepton.Security.DataUseDeniedException(e.FailureDetails.ErrorMessage);
        }
        catch (TaskFailedException e)
        {
            throw new InvalidOperationException(e.FailureDetails.ErrorMessage);
        }
    }
}
