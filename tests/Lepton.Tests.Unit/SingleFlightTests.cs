namespace Lepton.Tests.Unit;

public class SingleFlightTests
{
    [Fact]
    public async Task RunAsync_ConcurrentAsksForOneKey_ShareOneCall()
    {
        // Arrange: a call that waits until released
        var flight = new SingleFlight<string, int>();
        var release = new TaskCompletionSource();
        int calls = 0;
        async Task<int> Call()
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return 42;
        }

        // Act: ten asks while the first call runs, then one more after it ended
        Task<int>[] asks = Enumerable.Range(0, 10).Select(_ => flight.RunAsync("key", Call)).ToArray();
        release.SetResult();
        int[] results = await Task.WhenAll(asks);
        int later = await flight.RunAsync("key", Call);

        // Assert
        Assert.All(results, r => Assert.Equal(42, r));
        Assert.Equal((2, 42), (calls, later));
    }

    [Fact]
    public async Task RunAsync_CallFails_EveryWaiterGetsTheErrorAndTheNextAskCallsAgain()
    {
        // Arrange
        var flight = new SingleFlight<string, int>();
        var release = new TaskCompletionSource();
        int calls = 0;
        async Task<int> Failing()
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            throw new InvalidOperationException("storage away");
        }

        // Act
        Task<int>[] asks = Enumerable.Range(0, 3).Select(_ => flight.RunAsync("key", Failing)).ToArray();
        release.SetResult();
        foreach (Task<int> ask in asks)
        {
            Assert.Equal("storage away", (await Assert.ThrowsAsync<InvalidOperationException>(() => ask)).Message);
        }

        int next = await flight.RunAsync("key", () => Task.FromResult(7));

        // Assert
        Assert.Equal((1, 7), (calls, next));
    }

    [Fact]
    public async Task RunAsync_OneWaiterCancels_OthersStillGetTheResult()
    {
        // Arrange
        var flight = new SingleFlight<string, int>();
        var release = new TaskCompletionSource<int>();
        using var cancel = new CancellationTokenSource();

        // Act
        Task<int> first = flight.RunAsync("key", () => release.Task, cancel.Token);
        Task<int> second = flight.RunAsync("key", () => Task.FromResult(-1));
        await cancel.CancelAsync();
        release.SetResult(5);

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(5, await second);
    }
}
