using System.Numerics.Tensors;

namespace Lepton.Federated;

public static class Strategies
{
    public const string FedAvg = "fedavg";
    public const string FedProx = "fedprox";
    public const string Median = "median";
    public const string TrimmedMean = "trimmed-mean";

    public static IReadOnlyList<string> All { get; } = [FedAvg, FedProx, Median, TrimmedMean];

    /// <summary>The robust strategies look at every member's update, so they cannot run on masked (summed) updates.</summary>
    public static bool IsRobust(string strategy) => strategy is Median or TrimmedMean;
}

/// <summary>Combining members' parameter updates into one. Pure functions on flat vectors.</summary>
public static class Aggregation
{
    /// <summary>FedAvg: the sample-weighted mean of the updates (FedProx aggregates the same way; its difference is local).</summary>
    public static float[] WeightedMean(IReadOnlyList<float[]> updates, IReadOnlyList<double> weights)
    {
        double total = weights.Sum();
        float[] result = new float[updates[0].Length];
        for (int m = 0; m < updates.Count; m++)
        {
            TensorPrimitives.MultiplyAdd(updates[m], (float)(weights[m] / total), result, result);
        }

        return result;
    }

    /// <summary>Coordinate-wise median: one hostile member cannot move any coordinate past the honest ones.</summary>
    public static float[] Median(IReadOnlyList<float[]> updates) => TrimmedMean(updates, 0.5);

    /// <summary>
    /// Coordinate-wise trimmed mean: per coordinate, the <paramref name="fraction"/> largest and smallest values are
    /// dropped and the rest averaged (at 0.5 the median).
    /// </summary>
    public static float[] TrimmedMean(IReadOnlyList<float[]> updates, double fraction)
    {
        int n = updates.Count, length = updates[0].Length;
        float[] result = new float[length], column = new float[n];
        int trim = fraction >= 0.5 ? (n - 1) / 2 : (int)Math.Floor(n * fraction);
        for (int j = 0; j < length; j++)
        {
            for (int m = 0; m < n; m++)
            {
                column[m] = updates[m][j];
            }

            Array.Sort(column);
            if (fraction >= 0.5)
            {
                result[j] = n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
                continue;
            }

            double sum = 0;
            for (int m = trim; m < n - trim; m++)
            {
                sum += column[m];
            }

            result[j] = (float)(sum / (n - 2 * trim));
        }

        return result;
    }

    /// <summary>Scales an update down to L2 norm at most <paramref name="bound"/> (member-level clipping for privacy); returns the norm before.</summary>
    public static double Clip(float[] update, double bound)
    {
        double norm = Math.Sqrt(TensorPrimitives.Dot(update, update));
        if (norm > bound)
        {
            TensorPrimitives.Multiply(update, (float)(bound / norm), update);
        }

        return norm;
    }

    /// <summary>Adds N(0, σ²) to every coordinate, from a seeded generator (Box-Muller).</summary>
    public static void AddGaussianNoise(float[] values, double sigma, int seed)
    {
        var random = new Random(seed);
        for (int j = 0; j < values.Length; j++)
        {
            double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
            values[j] += (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }
}
