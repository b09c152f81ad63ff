using Lepton.Storage;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace Lepton;

/// <summary>
/// Registry rows that serving reads on every request (a validated key, a model's production pointer, a revocation, a
/// collaboration) reused for a short lifetime: a value serves for at most <c>lifetime</c> after the read that produced
/// it began, and once past half of it the next use starts one re-read in the background while the value still serves.
/// Under steady traffic no request waits on storage. Before, every request in flight when a value expired waited for
/// its re-read — a stall of one storage round trip, once a lifetime per value, which was the predict route's p99.
/// A value is read again only when used, so an idle key costs nothing.
/// </summary>
public sealed class RefreshingReads<TKey, TValue>(IMemoryCache cache, TimeProvider time, Func<TimeSpan> lifetime) where TKey : notnull
{
    private readonly object _scope = new();
    private readonly SingleFlight<TKey, TValue> _reads = new();
    private CancellationTokenSource _generation = new();

    /// <summary>
    /// The value for the key: from memory while fresh, else from <paramref name="read"/> (one read at a time per key).
    /// </summary>
    /// <param name="backgroundFailure">What a failed background re-read means for the value still in memory; by default
    /// nothing (it serves until its lifetime ends, and the next use reads again in the foreground).</param>
    public ValueTask<TValue> GetAsync(TKey key, Func<Task<TValue>> read, CancellationToken ct = default, Action<Exception>? backgroundFailure = null)
    {
        TimeSpan life = lifetime();
        if (Fresh(key, life, out TimeSpan age) is { } entry)
        {
            if (age >= life / 2)
            {
                _ = _reads.RunAsync(key, () => ReadAsync(key, read, life)).ContinueWith(
                    t => backgroundFailure?.Invoke(t.Exception!.InnerException ?? t.Exception), CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            return new ValueTask<TValue>(entry.Value);
        }

        return new ValueTask<TValue>(_reads.RunAsync(key, () => ReadAsync(key, read, life), ct));
    }

    /// <summary>Whether a value for the key is in memory within its lifetime, so that using it now reads nothing.</summary>
    public bool Holds(TKey key) => Fresh(key, lifetime(), out _) is not null;

    /// <summary>The key's value in memory if younger than <paramref name="life"/>.</summary>
    private Entry? Fresh(TKey key, TimeSpan life, out TimeSpan age)
    {
        age = cache.TryGetValue((_scope, key), out Entry? entry) && entry is not null ? time.GetUtcNow() - entry.ReadAt : TimeSpan.MaxValue;
        return age < life ? entry : null;
    }

    /// <summary>Forget the key's value: the next use reads it again.</summary>
    public void Forget(TKey key) => cache.Remove((_scope, key));

    /// <summary>Forget every value; a read that began before this is not kept either.</summary>
    public void Clear()
    {
        CancellationTokenSource previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }

    private async Task<TValue> ReadAsync(TKey key, Func<Task<TValue>> read, TimeSpan life)
    {
        // The lifetime counts from before the read: what storage said can be no older than that when it last serves.
        DateTimeOffset readAt = time.GetUtcNow();
        CancellationTokenSource generation = Volatile.Read(ref _generation);
        TValue value = await read();
        if (life > TimeSpan.Zero && ReferenceEquals(generation, Volatile.Read(ref _generation)))
        {
            try
            {
                cache.Put((_scope, key), new Entry(readAt, value), life, new CancellationChangeToken(generation.Token));
            }
            catch (ObjectDisposedException)
            {
                // Cleared between the check and the put: the value was read before the clear, so it is not kept.
            }
        }

        return value;
    }

    private sealed record Entry(DateTimeOffset ReadAt, TValue Value);
}
