using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;

namespace Lepton.Tests.Unit.Collaborations;

public class ContributionMathTests
{
    private static ContributionEstimator.Evaluate Game(Func<ulong, double> v, List<ulong>? asked = null) => masks =>
    {
        asked?.AddRange(masks);
        return Task.FromResult<IReadOnlyDictionary<ulong, double>>(masks.Distinct().ToDictionary(m => m, v));
    };

    /// <summary>Glove game: players 0 and 1 hold left gloves, player 2 a right one; a pair is worth 1.</summary>
    private static double Glove(ulong s) => Math.Min(Coalitions.Size(s & 0b011), Coalitions.Size(s & 0b100));

    /// <summary>Airport game: a coalition pays for the runway its largest plane needs, v(S) = −max cost in S.</summary>
    private static Func<ulong, double> Airport(double[] costs) => s => s == 0 ? 0 : -Coalitions.Players(s).Max(i => costs[i]);

    /// <summary>The airport game's Shapley value in closed form (Littlechild and Owen): costs split per runway segment among its users.</summary>
    private static double[] AirportShapley(double[] costs)
    {
        int n = costs.Length;
        int[] order = Enumerable.Range(0, n).OrderBy(i => costs[i]).ToArray();
        double[] values = new double[n];
        double previous = 0;
        for (int k = 0; k < n; k++)
        {
            double segment = costs[order[k]] - previous;
            for (int j = k; j < n; j++)
            {
                values[order[j]] -= segment / (n - k);
            }

            previous = costs[order[k]];
        }

        return values;
    }

    [Fact]
    public void All_ThreePlayers_EnumeratesEveryCoalitionOnceFromEmpty()
    {
        ulong[] all = Coalitions.All(3).ToArray();

        Assert.Equal(8, all.Length);
        Assert.Equal(0UL, all[0]);
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.Equal([0, 2], Coalitions.Players(0b101));
    }

    [Fact]
    public void Shapley_GloveGame_MatchesKnownValues()
    {
        double[] values = GameValues.Shapley(3, Glove);

        Assert.Equal(1.0 / 6, values[0], 12);
        Assert.Equal(1.0 / 6, values[1], 12);
        Assert.Equal(2.0 / 3, values[2], 12);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    public void Shapley_SymmetricMajorityVoting_GivesEachOneNth(int n)
    {
        double[] values = GameValues.Shapley(n, s => Coalitions.Size(s) * 2 > n ? 1 : 0);

        Assert.All(values, v => Assert.Equal(1.0 / n, v, 12));
    }

    [Fact]
    public void Shapley_AirportGameOfTen_MatchesClosedForm()
    {
        double[] costs = [1, 1, 2, 3, 3, 3, 5, 8, 8, 13];

        double[] values = GameValues.Shapley(costs.Length, Airport(costs));

        double[] expected = AirportShapley(costs);
        for (int i = 0; i < costs.Length; i++)
        {
            Assert.Equal(expected[i], values[i], 9);
        }
    }

    [Fact]
    public void Shapley_RandomGame_SatisfiesEfficiencySymmetryNullPlayerAndAdditivity()
    {
        // Arrange: a random game on 6 players where 2 and 4 are interchangeable and 5 adds nothing anywhere.
        var random = new Random(7);
        var baseValues = new Dictionary<ulong, double>();
        foreach (ulong s in Coalitions.All(5))
        {
            baseValues[s] = random.NextDouble();
        }

        ulong Canonical(ulong s)
        {
            ulong core = s & 0b11111;
            bool has2 = Coalitions.Contains(core, 2), has4 = Coalitions.Contains(core, 4);
            return has2 != has4 ? (core & ~(1UL << 2) & ~(1UL << 4)) | (1UL << 2) : core;
        }

        double V(ulong s) => baseValues[Canonical(s)];
        double W(ulong s) => Math.Sin(s) + Coalitions.Size(s & 0b11111);

        // Act
        double[] v = GameValues.Shapley(6, V), w = GameValues.Shapley(6, W), sum = GameValues.Shapley(6, s => V(s) + W(s));

        // Assert
        Assert.Equal(V(Coalitions.Grand(6)) - V(0), v.Sum(), 9);
        Assert.Equal(v[2], v[4], 12);
        Assert.Equal(0, v[5], 12);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(v[i] + w[i], sum[i], 9);
        }
    }

    [Fact]
    public void Banzhaf_MajorityOfThree_IsOneHalfEach()
    {
        // Each player is pivotal in 2 of the 4 coalitions of the others ({a}, {b}): 2 / 2^2 = 1/2.
        double[] values = GameValues.Banzhaf(3, s => Coalitions.Size(s) >= 2 ? 1 : 0);

        Assert.All(values, v => Assert.Equal(0.5, v, 12));
    }

    [Fact]
    public void LeaveOneOut_GloveGame_OnlyTheScarceGloveCounts()
    {
        double[] values = GameValues.LeaveOneOut(3, Glove);

        Assert.Equal([0, 0, 1], values);
    }

    [Fact]
    public async Task SampleShapley_AirportGameOfFifteen_ConvergesWithinStatedIntervals()
    {
        // Arrange
        double[] costs = [1, 1, 2, 3, 3, 3, 5, 8, 8, 13, 13, 21, 21, 34, 34];
        double[] exact = AirportShapley(costs);
        var asked = new List<ulong>();

        // Act
        EstimatedValues sampled = await ContributionEstimator.SampleShapleyAsync(costs.Length, 11, new SamplingOptions(2000, 0.02, 0), Game(Airport(costs), asked));

        // Assert: every exact value lies within its 99.9% interval (a generous multiple of the stated 95% one).
        for (int i = 0; i < costs.Length; i++)
        {
            Assert.InRange(exact[i], sampled.Values[i] - 3.3 * sampled.StandardErrors![i] - 1e-9, sampled.Values[i] + 3.3 * sampled.StandardErrors[i] + 1e-9);
        }

        Assert.Equal(-34, sampled.Values.Sum(), 9);
        Assert.True(sampled.Converged);
        Assert.True(asked.Distinct().Count() < 1 << costs.Length, "sampling should evaluate fewer coalitions than exist");
    }

    [Fact]
    public async Task SampleShapley_TenPlayerGame_ValuesWithinIntervalsOfExactValues()
    {
        // Arrange: a game with interactions (a weighted majority plus an additive part).
        double[] weight = [5, 4, 4, 3, 2, 2, 1, 1, 1, 0.5];
        Func<ulong, double> v = s =>
        {
            double w = Coalitions.Players(s).Sum(i => weight[i]);
            return (w >= 12 ? 10 : 0) + w;
        };
        double[] exact = GameValues.Shapley(10, v);

        // Act
        EstimatedValues sampled = await ContributionEstimator.SampleShapleyAsync(10, 3, new SamplingOptions(2000, 0.005, 0), Game(v));

        // Assert
        double within = Enumerable.Range(0, 10).Count(i => Math.Abs(sampled.Values[i] - exact[i]) <= 1.96 * sampled.StandardErrors![i] + 1e-9);
        Assert.True(within >= 8, $"only {within} of 10 exact values lie within the 95% intervals");
        Assert.All(Enumerable.Range(0, 10), i => Assert.InRange(Math.Abs(sampled.Values[i] - exact[i]), 0, 4 * sampled.StandardErrors![i] + 1e-9));
    }

    [Fact]
    public async Task ComputeAsync_SameSeed_ReproducesSampledValues()
    {
        double[] costs = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144];

        EstimatedValues first = await ContributionEstimator.ComputeAsync(AllocationMethods.Shapley, costs.Length, [], 5, new SamplingOptions(20, 0.001, 0.01), Game(Airport(costs)));
        EstimatedValues second = await ContributionEstimator.ComputeAsync(AllocationMethods.Shapley, costs.Length, [], 5, new SamplingOptions(20, 0.001, 0.01), Game(Airport(costs)));
        EstimatedValues other = await ContributionEstimator.ComputeAsync(AllocationMethods.Shapley, costs.Length, [], 6, new SamplingOptions(20, 0.001, 0.01), Game(Airport(costs)));

        Assert.False(first.Exact);
        Assert.Equal(first.Values, second.Values);
        Assert.NotEqual(first.Values, other.Values);
    }

    [Fact]
    public async Task SampleBanzhaf_MajorityOfEleven_ApproachesExactValue()
    {
        // Exact Banzhaf of simple majority among 11: C(10, 5) / 2^10 for every player.
        double exact = 252.0 / 1024;
        Func<ulong, double> majority = s => Coalitions.Size(s) >= 6 ? 1 : 0;

        EstimatedValues sampled = await ContributionEstimator.ComputeAsync(AllocationMethods.Banzhaf, 11, [], 9, new SamplingOptions(4000, 0.001, 0), Game(majority));

        Assert.All(Enumerable.Range(0, 11), i => Assert.InRange(sampled.Values[i], exact - 4 * sampled.StandardErrors![i], exact + 4 * sampled.StandardErrors[i]));
    }

    [Fact]
    public async Task ComputeAsync_ExactShapleyUpToTen_AsksForEveryCoalitionOnce()
    {
        var asked = new List<ulong>();

        EstimatedValues values = await ContributionEstimator.ComputeAsync(AllocationMethods.Shapley, 4, [], 1, new SamplingOptions(1, 1, 0), Game(Glove4, asked));

        Assert.True(values.Exact);
        Assert.Equal(16, asked.Count);
        Assert.Equal(Glove4(Coalitions.Grand(4)) - Glove4(0), values.Values.Sum(), 12);
    }

    [Fact]
    public async Task ComputeAsync_Proportional_SharesByRows()
    {
        EstimatedValues values = await ContributionEstimator.ComputeAsync(AllocationMethods.Proportional, 3, [100, 300, 600], 1, new SamplingOptions(1, 1, 0), Game(_ => throw new InvalidOperationException("no training")));

        Assert.Equal([10, 30, 60], Shares.Normalize(values.Values).Select(s => Math.Round(s, 9)));
    }

    [Fact]
    public void Normalize_NegativeValues_FloorAtZeroAndSumToHundred()
    {
        double[] shares = Shares.Normalize([0.3, -0.1, 0.1, 0]);

        Assert.Equal([75, 0, 25, 0], shares.Select(s => Math.Round(s, 9)));
        Assert.Equal(100, shares.Sum(), 9);
        Assert.Equal([50, 50], Shares.Normalize([-1, -2]));
    }

    [Fact]
    public void Permutation_SameSeed_IsTheSameOnEveryRun()
    {
        int[] first = new SplitMix64(42).Permutation(10), second = new SplitMix64(42).Permutation(10);

        Assert.Equal(first, second);
        Assert.Equal(Enumerable.Range(0, 10), first.Order());
    }

    private static double Glove4(ulong s) => Math.Min(Coalitions.Size(s & 0b0011), Coalitions.Size(s & 0b1100));
}
