using Lepton.Trainer;

namespace Lepton.Tests.Unit.Trainer;

public sealed class TrainerServiceTests
{
    [Fact]
    public void NextIdleInterval_EmptyPollsInARow_DoublesUpToTheCeiling()
    {
        // Arrange
        TimeSpan ceiling = new TrainerOptions().MaxIdlePollingInterval;
        var waits = new List<TimeSpan> { TrainerService.FirstIdleInterval };

        // Act
        for (int i = 0; i < 5; i++)
        {
            waits.Add(TrainerService.NextIdleInterval(waits[^1], ceiling));
        }

        // Assert: half a second, one, two, then two from there on
        Assert.Equal([500, 1000, 2000, 2000, 2000, 2000], waits.Select(w => w.TotalMilliseconds));
    }

    [Fact]
    public void NextIdleInterval_CeilingBelowTheFirstWait_StaysAtTheFirstWait()
    {
        Assert.Equal(TrainerService.FirstIdleInterval, TrainerService.NextIdleInterval(TrainerService.FirstIdleInterval, TimeSpan.FromMilliseconds(100)));
    }
}
