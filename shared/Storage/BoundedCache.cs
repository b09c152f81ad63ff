using Microsoft.Extensions.Caching.Memory;

namespace Lepton.Storage;

/// <summary>
/// How the platform puts entries into the one shared <see cref="IMemoryCache"/>: every entry counts as one against
/// <see cref="CacheOptions.MaxEntries"/> (the cache is size-limited, so an entry without a size would be refused), and
/// an entry that goes stale is dropped after its lifetime instead of lingering.
/// </summary>
public static class BoundedCache
{
    public static T Put<T>(this IMemoryCache cache, object key, T value, TimeSpan? lifetime = null, Microsoft.Extensions.Primitives.IChangeToken? expiresWith = null)
    {
        var entry = new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime };
        if (expiresWith is not null)
        {
            entry.AddExpirationToken(expiresWith);
        }

        return cache.Set(key, value, entry);
    }
}
