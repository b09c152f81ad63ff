using Lepton.Storage;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Options;

namespace Lepton.Security;

/// <summary>Security settings ("Lepton:Security").</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Lepton:Security";

    /// <summary>
    /// How long a validated key is trusted without re-reading the registry. Revoking a key or disabling a tenant clears
    /// this instance's cache at once; other instances notice within this time. Zero disables caching.
    /// </summary>
    public TimeSpan KeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Validated callers by the hash of their key, for <see cref="SecurityOptions.KeyCacheLifetime"/>; never the plain key.</summary>
public sealed class CallerCache(IOptions<SecurityOptions> options, TimeProvider time, IMemoryCache cache)
{
    private CancellationTokenSource _generation = new();

    public bool TryGet(string keyHash, out Caller caller)
    {
        caller = null!;
        if (cache.TryGetValue((nameof(CallerCache), keyHash), out (DateTimeOffset At, Caller Caller) entry) && time.GetUtcNow() - entry.At < options.Value.KeyCacheLifetime)
        {
            caller = entry.Caller;
            return true;
        }

        return false;
    }

    public void Set(string keyHash, Caller caller)
    {
        TimeSpan lifetime = options.Value.KeyCacheLifetime;
        if (lifetime > TimeSpan.Zero)
        {
            cache.Put((nameof(CallerCache), keyHash), (time.GetUtcNow(), caller), lifetime, new CancellationChangeToken(_generation.Token));
        }
    }

    /// <summary>Forget every cached caller: a key was revoked or a tenant's state changed.</summary>
    public void Clear()
    {
        CancellationTokenSource previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }
}
