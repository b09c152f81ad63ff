using System.Collections.Concurrent;

namespace Lepton;

/// <summary>
/// Concurrent asks for the same key share one call: the first starts it, the others await the same task, and the key
/// is free again once the call ends (success or failure). For lookups behind a short cache, so that the moment the
/// cache expires under load costs one round of storage calls, not one per request in flight.
/// </summary>
public sealed class SingleFlight<TKey, TValue> where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TValue>>> _inFlight = new();

    /// <summary>Runs <paramref name="call"/> unless a call for the key is running; then waits for that one.</summary>
    /// <remarks>The call does not take any one caller's cancellation: a caller that gives up must not fail the others.</remarks>
    public async Task<TValue> RunAsync(TKey key, Func<Task<TValue>> call, CancellationToken ct = default)
    {
        var mine = new Lazy<Task<TValue>>(() => RunAndForgetAsync(key, call));
        Lazy<Task<TValue>> shared = _inFlight.GetOrAdd(key, mine);
        return await shared.Value.WaitAsync(ct);
    }

    private async Task<TValue> RunAndForgetAsync(TKey key, Func<Task<TValue>> call)
    {
        try
        {
            return await call();
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }
}
