using System.Numerics;

namespace Lepton.Collaborations.Contributions;

/// <summary>Coalitions of n players as bit masks: bit i set = player i is in. At most 63 players.</summary>
public static class Coalitions
{
    public const int MaxPlayers = 63;

    public static ulong Grand(int n) => n is < 1 or > MaxPlayers ? throw new ArgumentOutOfRangeException(nameof(n)) : (1UL << n) - 1;

    /// <summary>Every coalition, the empty one first, in increasing mask order (2^n of them).</summary>
    public static IEnumerable<ulong> All(int n)
    {
        ulong grand = Grand(n);
        for (ulong mask = 0; ; mask++)
        {
            yield return mask;
            if (mask == grand)
            {
                yield break;
            }
        }
    }

    public static int Size(ulong mask) => BitOperations.PopCount(mask);

    public static bool Contains(ulong mask, int player) => (mask & (1UL << player)) != 0;

    public static IReadOnlyList<int> Players(ulong mask)
    {
        var players = new List<int>(Size(mask));
        for (int i = 0; mask >> i != 0; i++)
        {
            if (Contains(mask, i))
            {
                players.Add(i);
            }
        }

        return players;
    }
}

/// <summary>Exact values of a cooperative game given its characteristic function v (which must know every coalition it is asked).</summary>
public static class GameValues
{
    /// <summary>Shapley: the average marginal contribution over all orders, Σ_S |S|!(n-|S|-1)!/n! (v(S∪i) − v(S)).</summary>
    public static double[] Shapley(int n, Func<ulong, double> v)
    {
        double[] weight = new double[n];
        for (int s = 0; s < n; s++)
        {
            // s!(n-s-1)!/n! = 1 / (n * C(n-1, s)), computed without factorials.
            weight[s] = 1.0 / (n * Binomial(n - 1, s));
        }

        return Marginals(n, v, (s, marginal) => weight[s] * marginal);
    }

    /// <summary>Banzhaf: the plain average of marginal contributions over the 2^(n-1) coalitions without the player.</summary>
    public static double[] Banzhaf(int n, Func<ulong, double> v)
    {
        double scale = Math.Pow(2, -(n - 1));
        return Marginals(n, v, (_, marginal) => scale * marginal);
    }

    /// <summary>Leave-one-out: what the grand coalition loses without the player.</summary>
    public static double[] LeaveOneOut(int n, Func<ulong, double> v)
    {
        ulong grand = Coalitions.Grand(n);
        return Enumerable.Range(0, n).Select(i => v(grand) - v(grand & ~(1UL << i))).ToArray();
    }

    /// <summary>The coalitions leave-one-out needs: the grand one and each one without a player.</summary>
    public static IReadOnlyList<ulong> LeaveOneOutCoalitions(int n)
    {
        ulong grand = Coalitions.Grand(n);
        return Enumerable.Range(0, n).Select(i => grand & ~(1UL << i)).Prepend(grand).ToList();
    }

    private static double[] Marginals(int n, Func<ulong, double> v, Func<int, double, double> weighted)
    {
        double[] values = new double[n];
        foreach (ulong mask in Coalitions.All(n))
        {
            int size = Coalitions.Size(mask);
            double without = v(mask);
            for (int i = 0; i < n; i++)
            {
                if (!Coalitions.Contains(mask, i))
                {
                    values[i] += weighted(size, v(mask | (1UL << i)) - without);
                }
            }
        }

        return values;
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (int j = 1; j <= k; j++)
        {
            result = result * (n - k + j) / j;
        }

        return result;
    }
}

/// <summary>Benefit shares from contribution values.</summary>
public static class Shares
{
    /// <summary>
    /// Percentages that sum to 100: negative values (members whose data hurt the model) floor at zero; if no member adds
    /// anything, the benefit is split equally.
    /// </summary>
    public static double[] Normalize(IReadOnlyList<double> values)
    {
        double[] floored = values.Select(v => double.IsFinite(v) ? Math.Max(0, v) : 0).ToArray();
        double total = floored.Sum();
        return total <= 0
            ? Enumerable.Repeat(100.0 / Math.Max(1, values.Count), values.Count).ToArray()
            : floored.Select(v => 100 * v / total).ToArray();
    }
}

/// <summary>A small, fully specified generator (SplitMix64), so a stored seed reproduces a sample on any machine and runtime.</summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound) without modulo bias.</summary>
    public int Below(int bound)
    {
        ulong limit = ulong.MaxValue - (ulong.MaxValue % (ulong)bound);
        ulong r;
        do
        {
            r = Next();
        }
        while (r >= limit);
        return (int)(r % (ulong)bound);
    }

    public int[] Permutation(int n)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = Below(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
