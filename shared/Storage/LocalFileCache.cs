using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Lepton.Storage;

/// <summary>Bounds on what one worker keeps in memory and on its disk ("Lepton:Cache").</summary>
public sealed class CacheOptions
{
    public const string SectionName = "Lepton:Cache";

    /// <summary>Entries of the in-memory cache (validated callers, model cards and heads, collaborations, run plans).</summary>
    [Range(16, 10_000_000)]
    public long MaxEntries { get; set; } = 50_000;

    /// <summary>Bytes of local copies of curated data (training folds, members' splits); the least recently used beyond it are deleted.</summary>
    [Range(1L << 20, long.MaxValue)]
    public long MaxLocalFileBytes { get; set; } = 8L << 30;

    /// <summary>Where local copies go; empty: a folder under the system's temporary directory.</summary>
    public string LocalFileRoot { get; set; } = "";

    public string ResolveLocalFileRoot() => LocalFileRoot is { Length: > 0 } root ? root : Path.Combine(Path.GetTempPath(), "lepton-cache");
}

/// <summary>
/// Local copies of immutable data (curated versions, members' splits, pooled files), built once per worker even under
/// concurrent callers and bounded in bytes: a <see cref="MemoryCache"/> sized by the files' lengths evicts the least
/// recently used and deletes them. On Linux a file still open by a reader survives its deletion, so eviction never
/// breaks an activity mid-read; where the delete fails (a file in use on Windows) the copy stays until rebuilt.
/// </summary>
public sealed class LocalFileCache : IDisposable
{
    private readonly MemoryCache _files;
    private readonly long _limit;
    private readonly Lock _admit = new();
    private readonly ConcurrentDictionary<string, Lazy<Task>> _building = new(StringComparer.Ordinal);

    public LocalFileCache(IOptions<CacheOptions> options)
    {
        Root = options.Value.ResolveLocalFileRoot();
        _limit = options.Value.MaxLocalFileBytes;
        _files = new MemoryCache(new MemoryCacheOptions { SizeLimit = _limit, CompactionPercentage = 0.2, TrackStatistics = true });
    }

    public string Root { get; }

    /// <summary>
    /// Makes sure <paramref name="path"/> exists, building it with <paramref name="build"/> once. The unit of eviction is
    /// <paramref name="directory"/> when given (files built together are deleted together), else the file.
    /// </summary>
    public async Task EnsureAsync(string path, Func<Task> build, CancellationToken ct, string? directory = null)
    {
        if (_files.TryGetValue(path, out _) && File.Exists(path))
        {
            return;
        }

        Lazy<Task> once = _building.GetOrAdd(path, p => new Lazy<Task>(() => BuildAsync(p, build, directory)));
        try
        {
            await once.Value.WaitAsync(ct);
        }
        finally
        {
            _building.TryRemove(new KeyValuePair<string, Lazy<Task>>(path, once));
        }
    }

    private async Task BuildAsync(string path, Func<Task> build, string? directory)
    {
        if (!File.Exists(path))
        {
            await build();
        }

        long size = directory is null ? new FileInfo(path).Length : Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        // A size-limited MemoryCache refuses an entry that does not fit (it would then never be evicted and its file never
        // deleted), so make room first: evict the least recently used until the new copy fits. A copy larger than the whole
        // budget is admitted at the budget's size, so it goes first next time.
        size = Math.Clamp(size, 1, _limit);
        lock (_admit)
        {
            // A quarter at a time keeps recently used copies; with few entries a quarter may round down to none, hence the bound
            // and the final clear-out.
            for (int round = 0; round < 8 && _files.Count > 0 && (_files.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0) + size > _limit; round++)
            {
                _files.Compact(round < 6 ? 0.25 : 1.0);
            }

            _files.Set(path, directory ?? path, new MemoryCacheEntryOptions { Size = size }
                .RegisterPostEvictionCallback(static (_, value, reason, _) =>
                {
                    if (reason == EvictionReason.Capacity)
                    {
                        Delete((string)value!);
                    }
                }));
        }
    }

    private static void Delete(string target)
    {
        try
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
            else
            {
                File.Delete(target);
            }
        }
        catch (IOException)
        {
            // Another worker process shares the folder and holds it; it goes on the next eviction or restart.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose() => _files.Dispose();
}
