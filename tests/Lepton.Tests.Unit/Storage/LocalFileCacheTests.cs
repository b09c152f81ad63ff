using Lepton.Storage;
using Microsoft.Extensions.Options;

namespace Lepton.Tests.Unit.Storage;

public sealed class LocalFileCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lepton-cache-test").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private LocalFileCache Cache(long maxBytes) =>
        new(Options.Create(new CacheOptions { MaxLocalFileBytes = maxBytes, LocalFileRoot = _root }));

    [Fact]
    public async Task EnsureAsync_ConcurrentCallers_BuildOnce()
    {
        // Arrange
        using LocalFileCache cache = Cache(1 << 20);
        string path = Path.Combine(cache.Root, "data.csv");
        int builds = 0;
        async Task Build()
        {
            Interlocked.Increment(ref builds);
            await Task.Delay(50);
            await File.WriteAllTextAsync(path, "a,b\n1,2\n");
        }

        // Act
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cache.EnsureAsync(path, Build, CancellationToken.None)));

        // Assert
        Assert.Equal(1, builds);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task EnsureAsync_OverTheByteLimit_DeletesTheLeastRecentlyUsed()
    {
        // Arrange: room for about two 600 KB files
        using LocalFileCache cache = Cache(1_300_000);
        string[] paths = Enumerable.Range(0, 4).Select(i => Path.Combine(cache.Root, $"f{i}.bin")).ToArray();

        // Act
        foreach (string path in paths)
        {
            await cache.EnsureAsync(path, () => File.WriteAllBytesAsync(path, new byte[600_000]), CancellationToken.None);
            await Task.Delay(100); // compaction runs in the background after an insert over the limit
        }

        await WaitUntil(() => paths.Count(File.Exists) <= 2);

        // Assert: the newest survives, the oldest is gone, and total bytes stay within the limit
        Assert.True(File.Exists(paths[^1]));
        Assert.False(File.Exists(paths[0]));
        Assert.True(paths.Where(File.Exists).Sum(p => new FileInfo(p).Length) <= 1_300_000);
    }

    [Fact]
    public async Task EnsureAsync_FileDeletedBehindItsBack_RebuildsIt()
    {
        using LocalFileCache cache = Cache(1 << 20);
        string path = Path.Combine(cache.Root, "data.csv");
        int builds = 0;
        Task Build()
        {
            builds++;
            return File.WriteAllTextAsync(path, "x\n");
        }

        await cache.EnsureAsync(path, Build, CancellationToken.None);
        File.Delete(path);
        await cache.EnsureAsync(path, Build, CancellationToken.None);

        Assert.Equal(2, builds);
        Assert.True(File.Exists(path));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 50 && !condition(); i++)
        {
            await Task.Delay(100);
        }
    }
}
