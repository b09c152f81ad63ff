using System.Collections.Concurrent;
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
public sealed class CallerCache(IOptions<SecurityOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, Caller Caller)> _entries = new();

    public bool TryGet(string keyHash, out Caller caller)
    {
        caller = null!;
        if (_entries.TryGetValue(keyHash, out var entry) && time.GetUtcNow() - entry.At < options.Value.KeyCacheLifetime)
        {
            caller = entry.Caller;
            return true;
        }

        return false;
    }

    public void Set(string keyHash, Caller caller)
    {
        if (options.Value.KeyCacheLifetime > TimeSpan.Zero)
        {
            _entries[keyHash] = (time.GetUtcNow(), caller);
        }
    }

    /// <summary>Forget every cached caller: a key was revoked or a tenant's state changed.</summary>
    public void Clear() => _entries.Clear();
}
