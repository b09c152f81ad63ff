using Lepton.Federated;
using Lepton.Ingestion;
using Lepton.Learning;
using Lepton.Training;

namespace Lepton.Tests.Unit.Federated;

public class FederatedTests
{
    [Fact]
    public void WeightedMean_FedAvg_WeighsUpdatesBySamples()
    {
        float[] mean = Aggregation.WeightedMean([[1, 0], [4, 3]], [300, 100]);

        Assert.Equal([1.75f, 0.75f], mean);
    }

    [Fact]
    public void Train_FedProxAtMuZero_IsPlainLocalTraining_AndMuPullsTowardsTheStart()
    {
        // Arrange
        var random = new Random(3);
        float[] x = Enumerable.Range(0, 200 * 3).Select(_ => (float)random.NextDouble()).ToArray();
        float[] y = Enumerable.Range(0, 200).Select(i => x[i * 3] > 0.5f ? 1f : 0f).ToArray();
        var data = new TrainingSet(x, y, 200, 3);
        var shape = new NetworkShape(3, [4], 1, NetworkHead.Binary);
        float[] start = Enumerable.Range(0, shape.ParameterCount).Select(i => 0.1f * (i % 5 - 2)).ToArray();
        var options = new NetworkOptions([4], LearningRate: 0.05f, BatchSize: 20, Seed: 1);
        using var cpu = new CpuBackend(1);

        // Act
        (float[] plain, _, _) = NetworkTrainer.Train(data, shape, options, cpu, start, epochs: 5);
        (float[] muZero, _, _) = NetworkTrainer.Train(data, shape, options, cpu, start, epochs: 5, proximalMu: 0);
        (float[] proximal, _, _) = NetworkTrainer.Train(data, shape, options, cpu, start, epochs: 5, proximalMu: 5);

        // Assert
        Assert.Equal(plain, muZero);
        static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));
        Assert.True(Distance(proximal, start) < Distance(plain, start), "the proximal term should keep local training nearer the global model");
    }

    [Fact]
    public void MedianAndTrimmedMean_OneHostileMember_StayWithTheHonestOnes()
    {
        List<float[]> updates = [[1.0f, -1.0f], [1.2f, -0.8f], [0.9f, -1.1f], [1.1f, -0.9f], [1e6f, -1e6f]];

        float[] median = Aggregation.Median(updates);
        float[] trimmed = Aggregation.TrimmedMean(updates, 0.2);
        float[] mean = Aggregation.WeightedMean(updates, [1, 1, 1, 1, 1]);

        Assert.InRange(median[0], 0.9f, 1.2f);
        Assert.InRange(median[1], -1.1f, -0.8f);
        Assert.InRange(trimmed[0], 0.9f, 1.2f);
        Assert.InRange(trimmed[1], -1.1f, -0.8f);
        Assert.True(mean[0] > 1e5, "the plain mean is what a hostile member moves");
    }

    [Fact]
    public void Mask_PairwiseMasks_CancelExactlyInTheSumAndHideEachUpdate()
    {
        // Arrange: three members with key pairs; each masks its quantized update with seeds shared pairwise by ECDH
        string[] members = ["a", "b", "c"];
        var keys = members.ToDictionary(m => m, _ => SecureAggregation.CreateKeyPair());
        var random = new Random(4);
        var updates = members.ToDictionary(m => m, _ => Enumerable.Range(0, 500).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());

        // Act
        var masked = members.Select(m => SecureAggregation.Mask(SecureAggregation.Quantize(updates[m]), m,
            members.Where(o => o != m).ToDictionary(o => o, o => SecureAggregation.PairSeed(keys[m].PrivateKey, keys[o].PublicKey,
                $"run|1|1|{string.Join('|', new[] { m, o }.Order(StringComparer.Ordinal))}")))).ToList();
        float[] sum = SecureAggregation.Dequantize(SecureAggregation.Sum(masked));

        // Assert: the sum is exact up to quantization, and a masked update tells nothing about its raw values
        for (int j = 0; j < 500; j++)
        {
            // Exact up to each member's rounding to 2^-20 (and the float the sum is read into).
            Assert.InRange(sum[j] - (updates["a"][j] + updates["b"][j] + updates["c"][j]), -3.5 / SecureAggregation.Scale, 3.5 / SecureAggregation.Scale);
        }

        double[] raw = updates["a"].Select(v => (double)v).ToArray();
        double[] seen = SecureAggregation.Dequantize(masked[0]).Select(v => (double)v).ToArray();
        Assert.InRange(Correlation(raw, seen), -0.15, 0.15);
        Assert.Equal(SecureAggregation.PairSeed(keys["a"].PrivateKey, keys["b"].PublicKey, "x"), SecureAggregation.PairSeed(keys["b"].PrivateKey, keys["a"].PublicKey, "x"));
    }

    [Theory]
    [InlineData(1.0, 10)]
    [InlineData(2.5, 100)]
    public void Accountant_ComposedGaussian_MatchesTheClosedForm(double sigma, int rounds)
    {
        foreach (double alpha in new[] { 1.5, 2, 8, 32 })
        {
            Assert.Equal(rounds * alpha / (2 * sigma * sigma), PrivacyAccountant.Rdp(alpha, sigma, rounds), 6);
        }

        // ε(δ) is the best conversion over orders: at least the value at the optimum of the continuous bound, and close to it.
        double delta = 1e-5, rho = rounds / (2 * sigma * sigma);
        double optimum = rho + 2 * Math.Sqrt(rho * Math.Log(1 / delta));
        double epsilon = PrivacyAccountant.Epsilon(sigma, rounds, delta);
        Assert.InRange(epsilon, optimum - 1e-6, optimum * 1.05);
        Assert.True(PrivacyAccountant.Epsilon(sigma, rounds * 2, delta) > epsilon);
    }

    [Fact]
    public void Featurize_FromMembersStatistics_EqualsTheFitOnPooledRows()
    {
        // Arrange: three members' rows of one numeric, one boolean and one categorical feature
        ColumnSchema[] features = [new("n", ColumnKind.Numeric, false), new("b", ColumnKind.Boolean, false), new("c", ColumnKind.Categorical, false)];
        var random = new Random(8);
        string[][] parts = Enumerable.Range(0, 3).Select(p => Enumerable.Range(0, 40 + p * 17).Select(i =>
            $"{(i % 9 == 0 ? "" : (random.NextDouble() * 10 * (p + 1)).ToString("R", System.Globalization.CultureInfo.InvariantCulture))},{(random.Next(2) == 1 ? "true" : "false")},{"xyz"[random.Next(3 - (p == 2 ? 1 : 0))]},{(random.Next(2) == 1 ? "yes" : "no")}").ToArray()).ToArray();
        string directory = Directory.CreateTempSubdirectory("lepton-federated-test").FullName;
        try
        {
            var statistics = new List<MemberStatistics>();
            for (int p = 0; p < 3; p++)
            {
                string path = Path.Combine(directory, $"m{p}.csv");
                File.WriteAllLines(path, parts[p].Prepend("n,b,c,y"));
                statistics.Add(FederatedStatistics.Compute($"m{p}", path, features, "y", MlTasks.Binary));
            }

            string[] all = parts.SelectMany(p => p).ToArray();
            var columns = new Dictionary<string, string[]>
            {
                ["n"] = all.Select(r => r.Split(',')[0]).ToArray(), ["b"] = all.Select(r => r.Split(',')[1]).ToArray(), ["c"] = all.Select(r => r.Split(',')[2]).ToArray(),
            };

            // Act
            Featurization federated = FederatedStatistics.Featurize(FederatedStatistics.Combine(statistics), features);
            Featurization pooled = Featurization.Fit(features, columns);

            // Assert
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(pooled.Numeric[i].Center, federated.Numeric[i].Center, 9);
                Assert.Equal(pooled.Numeric[i].Scale, federated.Numeric[i].Scale, 9);
                Assert.Equal(pooled.Numeric[i].Fill, federated.Numeric[i].Fill, 9);
            }

            Assert.Equal(pooled.Categorical[0].Categories, federated.Categorical[0].Categories);
            Assert.Equal(all.Length, FederatedStatistics.Combine(statistics).Rows);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Metrics_SummedValidationStatistics_GiveTheTaskMetrics()
    {
        // Two members' confusion counts for 2 classes, and score histograms where positives score higher.
        long[] positives = new long[FederatedStatistics.HistogramBins], negatives = new long[FederatedStatistics.HistogramBins];
        positives[900] = 8;
        negatives[100] = 10;
        negatives[950] = 2;
        var a = new ValidationStatistics(10, 2, [5, 1, 0, 4], positives, new long[FederatedStatistics.HistogramBins], 0, 0, 0, 0);
        var b = new ValidationStatistics(10, 3, [5, 1, 0, 4], new long[FederatedStatistics.HistogramBins], negatives, 0, 0, 0, 0);

        Dictionary<string, double> metrics = FederatedStatistics.Metrics(MlTasks.Binary, FederatedStatistics.Sum([a, b]), 2);

        Assert.Equal(0.9, metrics["accuracy"], 9);
        Assert.Equal(0.25, metrics["logLoss"], 9);
        Assert.Equal(10.0 / 12, metrics["auc"], 9);
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
        return sxy / Math.Sqrt(x.Sum(v => (v - mx) * (v - mx)) * y.Sum(v => (v - my) * (v - my)));
    }
}
