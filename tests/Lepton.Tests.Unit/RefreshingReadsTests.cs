using Microsoft.Extensions.Caching.Memory;

namespace Lepton.Tests.Unit;

public class RefreshingReadsTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (RefreshingReads<string, int> Reads, ManualClock Clock) Create()
    {
        var clock = new ManualClock();
        return (new RefreshingReads<string, int>(new MemoryCache(new MemoryCacheOptions()), clock, () => Lifetime), clock);
    }

    /// <summary>Reads holding the value 1 for "key", read <paramref name="age"/> ago.</summary>
    private static async Task<(RefreshingReads<string, int> Reads, ManualClock Clock)> ReadAgoAsync(TimeSpan age)
    {
        (RefreshingReads<string, int> reads, ManualClock clock) = Create();
        await reads.GetAsync("key", () => Task.FromResult(1));
        clock.Now += age;
        return (reads, clock);
    }

    [Fact]
    public async Task GetAsync_YoungerThanHalfItsLifetime_ServedWithoutReading()
    {
        // Arrange
        (RefreshingReads<string, int> reads, _) = await ReadAgoAsync(TimeSpan.FromMilliseconds(400));
        int calls = 0;

        // Act
        int value = await reads.GetAsync("key", () => Task.FromResult(++calls));

        // Assert
        Assert.Equal((1, 0), (value, calls));
    }

    [Fact]
    public async Task GetAsync_PastHalfItsLifetime_ServesTheValueWhileOneReadRunsInTheBackground()
    {
        // Arrange: the re-read waits until released
        (RefreshingReads<string, int> reads, _) = await ReadAgoAsync(TimeSpan.FromMilliseconds(600));
        var release = new TaskCompletionSource<int>();
        int rereads = 0;
        Task<int> Reread()
        {
            Interlocked.Increment(ref rereads);
            return release.Task;
        }

        // Act: three uses while the re-read is pending, then it completes
        int[] served = [await reads.GetAsync("key", Reread), await reads.GetAsync("key", Reread), await reads.GetAsync("key", Reread)];
        release.SetResult(2);
        await Task.Yield();
        int after = await reads.GetAsync("key", () => Task.FromResult(3));

        // Assert: nobody waited, one re-read ran, and its value serves from then on
        Assert.Equal([1, 1, 1], served);
        Assert.Equal((1, 2), (rereads, after));
    }

    [Fact]
    public async Task GetAsync_LifetimeOver_WaitsForTheRead()
    {
        // Arrange
        (RefreshingReads<string, int> reads, _) = await ReadAgoAsync(Lifetime);
        var release = new TaskCompletionSource<int>();

        // Act
        ValueTask<int> pending = reads.GetAsync("key", () => release.Task);
        bool waited = !pending.IsCompleted;
        release.SetResult(2);

        // Assert: an expired value is never served
        Assert.True(waited);
        Assert.Equal(2, await pending);
    }

    [Fact]
    public async Task GetAsync_BackgroundReadFails_ReportsTheErrorAndServesTheValueUntilItsLifetimeEnds()
    {
        // Arrange
        (RefreshingReads<string, int> reads, ManualClock clock) = await ReadAgoAsync(TimeSpan.FromMilliseconds(600));
        var reported = new TaskCompletionSource<Exception>();

        // Act
        int served = await reads.GetAsync("key", () => Task.FromException<int>(new InvalidOperationException("storage away")), backgroundFailure: e => reported.TrySetResult(e));
        Exception error = await reported.Task.WaitAsync(TimeSpan.FromSeconds(5));
        clock.Now += TimeSpan.FromMilliseconds(300);
        int stillServed = await reads.GetAsync("key", () => Task.FromResult(5), backgroundFailure: _ => { });

        // Assert
        Assert.Equal("storage away", error.Message);
        Assert.Equal((1, 1), (served, stillServed));
    }

    [Fact]
    public async Task Clear_ReadBeganBefore_ItsValueIsNotKept()
    {
        // Arrange: a read in flight when the values are cleared (a key revoked meanwhile)
        (RefreshingReads<string, int> reads, _) = Create();
        var release = new TaskCompletionSource<int>();
        ValueTask<int> pending = reads.GetAsync("key", () => release.Task);

        // Act
        reads.Clear();
        release.SetResult(1);
        int first = await pending;
        int next = await reads.GetAsync("key", () => Task.FromResult(2));

        // Assert: the caller that asked gets what was read, but the next use reads again
        Assert.Equal((1, 2), (first, next));
    }

    [Fact]
    public async Task Forget_KnownKey_NextUseReadsAgain()
    {
        // Arrange
        (RefreshingReads<string, int> reads, _) = await ReadAgoAsync(TimeSpan.Zero);

        // Act
        reads.Forget("key");
        int value = await reads.GetAsync("key", () => Task.FromResult(2));

        // Assert
        Assert.Equal(2, value);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(999, true)]
    [InlineData(1000, false)]
    public async Task Holds_AValueOfThisAge_TrueOnlyWithinItsLifetime(int ageMilliseconds, bool held)
    {
        // Arrange
        (RefreshingReads<string, int> reads, _) = await ReadAgoAsync(TimeSpan.FromMilliseconds(ageMilliseconds));

        // Act
        (bool key, bool other) = (reads.Holds("key"), reads.Holds("other"));

        // Assert
        Assert.Equal((held, false), (key, other));
    }
}
