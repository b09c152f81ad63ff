using Lepton.Errors;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Lepton.Security;

/// <summary>Security settings ("Lepton:Security").</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Lepton:Security";

    /// <summary>
    /// How long a validated key is trusted without re-reading the registry. Revoking a key or disabling a tenant clears
    /// this instance's cache at once; other instances notice within this time. Zero disables caching (and then every
    /// request reads the registry, so one client address can have at most Lepton:RateLimit:FailedBurst authenticating at once).
    /// </summary>
    public TimeSpan KeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Validated callers by the hash of their key, for <see cref="SecurityOptions.KeyCacheLifetime"/>; never the plain key.
/// Re-validated in the background once past half of it (<see cref="RefreshingReads{TKey, TValue}"/>); a key found
/// invalid then is forgotten at once.
/// </summary>
public sealed class CallerCache(IOptions<SecurityOptions> options, TimeProvider time, IMemoryCache cache)
{
    private readonly RefreshingReads<string, Caller> _callers = new(cache, time, () => options.Value.KeyCacheLifetime);

    /// <summary>The caller of the key with this hash, validated by <paramref name="validate"/> when not known or too old.</summary>
    public ValueTask<Caller> GetAsync(string keyHash, Func<Task<Caller>> validate, CancellationToken ct) =>
        _callers.GetAsync(keyHash, validate, ct, e =>
        {
            if (e is LeptonException { Kind: ErrorKind.Unauthorized })
            {
                _callers.Forget(keyHash);
            }
        });

    /// <summary>Whether the key with this hash was validated within the lifetime: using it now reads no registry.</summary>
    public bool Knows(string keyHash) => _callers.Holds(keyHash);

    /// <summary>Forget every cached caller: a key was revoked or a tenant's state changed.</summary>
    public void Clear() => _callers.Clear();
}
