using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class RowHashSetTests
{
    [Fact]
    public void Add_ManyHashesAcrossGrowth_DetectsEveryRepeat()
    {
        var set = new RowHashSet();
        var random = new Random(7);
        ulong[] hashes = Enumerable.Range(0, 200_000).Select(_ => (ulong)random.NextInt64()).Append(0UL).ToArray();

        bool allNew = hashes.All(set.Add);
        bool anyRepeatAdded = hashes.Any(set.Add);

        Assert.True(allNew);
        Assert.False(anyRepeatAdded);
        Assert.Equal(hashes.Length, set.Count);
    }
}
