using System.Text.Json;
using Lepton.Ingestion;
using Lepton.Learning;
using Lepton.Training;

namespace Lepton.Tests.Unit.Learning;

public class NetworkTests
{
    private static float[] RandomArray(int length, int seed, float scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>The batch loss of a network on fixed inputs, in double, for finite differences.</summary>
    private static double Loss(Network network, NetworkShape shape, float[] x, float[] y, int rows, int? dropoutSeed)
    {
        ReadOnlySpan<float> logits = network.Forward(x, rows, dropoutSeed is { } s ? new Random(s) : null);
        float[] gradient = new float[rows * shape.Outputs];
        return shape.Head switch
        {
            NetworkHead.Binary => Losses.BinaryCrossEntropy(logits, y, rows, gradient),
            NetworkHead.Multiclass => Losses.CategoricalCrossEntropy(logits, y, rows, shape.Outputs, gradient),
            _ => Losses.MeanSquaredError(logits, y, rows, gradient),
        };
    }

    [Theory]
    [InlineData(NetworkHead.Regression, 1, 0f)]
    [InlineData(NetworkHead.Binary, 1, 0f)]
    [InlineData(NetworkHead.Multiclass, 4, 0f)]
    [InlineData(NetworkHead.Multiclass, 3, 0.3f)]
    public void Backward_EveryLayerAndLoss_MatchesFiniteDifferences(NetworkHead head, int outputs, float dropout)
    {
        // Arrange: Linear → ReLU → Linear → ReLU → Linear with the head's loss; inputs shifted so ReLUs are mostly active.
        var shape = new NetworkShape(5, [7, 6], outputs, head);
        using var backend = new CpuBackend(1);
        var network = new Network(shape, backend, 8, dropout);
        network.Initialize(3);
        const int rows = 8;
        float[] x = RandomArray(rows * 5, 4);
        var targetRandom = new Random(5);
        float[] y = Enumerable.Range(0, rows).Select(_ => head switch
        {
            NetworkHead.Binary => (float)targetRandom.Next(2),
            NetworkHead.Multiclass => (float)targetRandom.Next(outputs),
            _ => (float)targetRandom.NextDouble(),
        }).ToArray();
        int? seed = dropout > 0 ? 11 : null;

        // Act: analytic gradient
        ReadOnlySpan<float> logits = network.Forward(x, rows, seed is { } s ? new Random(s) : null);
        float[] outputGradient = new float[rows * outputs];
        _ = head switch
        {
            NetworkHead.Binary => Losses.BinaryCrossEntropy(logits, y, rows, outputGradient),
            NetworkHead.Multiclass => Losses.CategoricalCrossEntropy(logits, y, rows, outputs, outputGradient),
            _ => Losses.MeanSquaredError(logits, y, rows, outputGradient),
        };
        network.Backward(outputGradient, rows, dropout > 0);
        float[] analytic = (float[])network.Gradient.Clone();

        // Assert: central differences on every parameter, except where a step crosses a ReLU's kink (the one-sided
        // differences then disagree, and no finite difference is the derivative)
        const float epsilon = 1e-3f;
        double worst = 0, at = Loss(network, shape, x, y, rows, seed);
        string worstAt = "";
        int kinks = 0;
        for (int i = 0; i < network.Parameters.Length; i++)
        {
            float saved = network.Parameters[i];
            network.Parameters[i] = saved + epsilon;
            double plus = Loss(network, shape, x, y, rows, seed);
            network.Parameters[i] = saved - epsilon;
            double minus = Loss(network, shape, x, y, rows, seed);
            network.Parameters[i] = saved;
            double forward = (plus - at) / epsilon, backward = (at - minus) / epsilon;
            if (Math.Abs(forward - backward) > 0.05 * (Math.Abs(forward) + Math.Abs(backward)) + 2e-3)
            {
                kinks++;
                continue;
            }

            double numeric = (plus - minus) / (2 * epsilon);
            double error = Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i]));
            if (error > worst)
            {
                (worst, worstAt) = (error, $"parameter {i}: numeric {numeric:G5}, analytic {analytic[i]:G5}");
            }
        }

        Assert.True(worst < 2e-2, $"largest relative gradient error {worst:G3} at {worstAt}");
        Assert.True(kinks < network.Parameters.Length / 10, $"{kinks} parameters sit at a kink");
    }

    [Theory]
    [InlineData(NetworkOptions.Sgd)]
    [InlineData(NetworkOptions.Adam)]
    public void Step_QuadraticBowl_ConvergesToTheKnownMinimum(string kind)
    {
        // f(θ) = ½ Σ a_i (θ_i − c_i)², minimum at c.
        float[] a = [1, 4, 0.5f, 2], c = [3, -1, 0.5f, 10];
        float[] theta = new float[4], gradient = new float[4];
        IOptimizer optimizer = kind == NetworkOptions.Sgd ? new SgdMomentum(4, 0.05f, 0.9f) : new AdamW(4, 0.05f);

        for (int step = 0; step < 3000; step++)
        {
            for (int i = 0; i < 4; i++)
            {
                gradient[i] = a[i] * (theta[i] - c[i]);
            }

            optimizer.Step(theta, gradient);
        }

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(c[i], theta[i], 2);
        }
    }

    [Fact]
    public void Step_AdamWWeightDecay_ShrinksTheMinimumTowardsZero()
    {
        float[] theta = [0], gradient = [0];
        var optimizer = new AdamW(1, 0.01f, weightDecay: 0.5f);
        for (int step = 0; step < 5000; step++)
        {
            gradient[0] = theta[0] - 2;
            optimizer.Step(theta, gradient);
        }

        Assert.InRange(theta[0], 0.1f, 1.99f);
    }

    [Theory]
    [InlineData(0.3f, 1e-4)]
    [InlineData(1f, 1e-4)]
    [InlineData(23f, 23e-4)]
    public void ParityToleranceFor_ParameterScale_GrowsOnlyAboveOrderOne(float magnitude, double expected)
    {
        // Arrange: parameters of ± magnitude, so their root mean square is the magnitude
        var shape = new NetworkShape(3, [4], 1, NetworkHead.Binary);
        float[] parameters = Enumerable.Range(0, shape.ParameterCount).Select(i => i % 2 == 0 ? magnitude : -magnitude).ToArray();
        var model = new ParametricModel(shape, new Featurization([], []), parameters, ["a", "b"], 0, 1, 0, null);

        // Act + Assert
        Assert.Equal(expected, ParametricEngine.ParityToleranceFor(model), 9);
    }

    [Fact]
    public void Initialize_Seed_DrawsEveryWeightAndBiasFromItsLayersGlorotRange()
    {
        // Arrange: layers of very different widths, so a per-layer bound other than √(6 / (in + out)) would show.
        var shape = new NetworkShape(40, [128, 16], 5, NetworkHead.Multiclass);
        using var backend = new CpuBackend(1);
        var network = new Network(shape, backend, 1);

        // Act
        network.Initialize(9);

        // Assert: within the bound, spread across it (not a narrower one), biases drawn too (scikit-learn's MLP init)
        foreach (DenseLayout layer in shape.Layout)
        {
            double bound = Math.Sqrt(6.0 / (layer.In + layer.Out));
            float[] weights = network.Parameters.AsSpan(layer.WeightOffset, layer.In * layer.Out).ToArray();
            float[] biases = network.Parameters.AsSpan(layer.BiasOffset, layer.Out).ToArray();
            Assert.All(weights.Concat(biases), p => Assert.InRange(Math.Abs(p), 0, bound));
            Assert.True(weights.Max(Math.Abs) > 0.9 * bound, $"largest weight {weights.Max(Math.Abs)} of bound {bound}");
            Assert.Contains(biases, b => Math.Abs(b) > 0.1 * bound);
        }
    }

    [Fact]
    public void Train_SameSeed_GivesTheSameParameters()
    {
        TrainingSet data = Blobs(300, 3);
        var shape = new NetworkShape(4, [16], 3, NetworkHead.Multiclass);
        using var backend = new CpuBackend();

        (float[] first, _, _) = NetworkTrainer.Train(data, shape, new NetworkOptions([16], MaxEpochs: 20, Dropout: 0.1f, Seed: 7), backend);
        (float[] second, _, _) = NetworkTrainer.Train(data, shape, new NetworkOptions([16], MaxEpochs: 20, Dropout: 0.1f, Seed: 7), backend);
        (float[] other, _, _) = NetworkTrainer.Train(data, shape, new NetworkOptions([16], MaxEpochs: 20, Dropout: 0.1f, Seed: 8), backend);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Train_SeparableClasses_LearnsThem()
    {
        TrainingSet data = Blobs(600, 3);
        var shape = new NetworkShape(4, [16], 3, NetworkHead.Multiclass);
        using var backend = new CpuBackend();

        (float[] parameters, _, double? validation) = NetworkTrainer.Train(data, shape, new NetworkOptions([16], LearningRate: 0.01f, Seed: 1), backend);
        var model = new ParametricModel(shape, new Featurization([], []), parameters, ["a", "b", "c"], 0, 1, 0, validation);
        float[][] outputs = NetworkTrainer.Predict(model, data.Features, data.Rows, backend);

        double accuracy = Enumerable.Range(0, data.Rows).Count(i => Array.IndexOf(outputs[i], outputs[i].Max()) == (int)data.Targets[i]) / (double)data.Rows;
        Assert.True(accuracy > 0.95, $"accuracy {accuracy:F3}");
    }

    [Fact]
    public void Gemm_IlgpuAndCpu_AgreeOnEveryTransposition()
    {
        using var cpu = new CpuBackend();
        using var gpu = new IlgpuBackend(preferCuda: false);
        foreach ((bool ta, bool tb) in new[] { (false, false), (true, false), (false, true) })
        {
            float[] a = RandomArray(7 * 5, 1), b = RandomArray(5 * 6, 2), c1 = RandomArray(7 * 6, 3), c2 = (float[])c1.Clone();
            int m = 7, n = 6, k = 5;
            if (ta)
            {
                (a, m, k) = (RandomArray(5 * 7, 1), 7, 5);
            }

            cpu.Gemm(ta, tb, m, n, k, a, tb ? RandomArray(6 * 5, 2) : b, c1, 1);
            gpu.Gemm(ta, tb, m, n, k, a, tb ? RandomArray(6 * 5, 2) : b, c2, 1);

            for (int i = 0; i < c1.Length; i++)
            {
                Assert.True(Math.Abs(c1[i] - c2[i]) <= 1e-5 * Math.Max(1, Math.Abs(c1[i])), $"{c1[i]} vs {c2[i]}");
            }
        }
    }

    [Fact]
    public void Gemm_IlgpuShapesGrowingAndShrinking_AgreesWithCpu()
    {
        // Arrange: the device buffers are kept between operations, so a small product after a large one must use only
        // its own part of them, and a larger one after it must grow them.
        using var cpu = new CpuBackend(1);
        using var gpu = new IlgpuBackend(preferCuda: false);

        foreach ((int m, int n, int k) in new[] { (9, 8, 7), (2, 3, 2), (12, 10, 11), (1, 1, 1) })
        {
            float[] a = RandomArray(m * k, m), b = RandomArray(k * n, n), c1 = RandomArray(m * n, k), c2 = (float[])c1.Clone();

            // Act
            cpu.Gemm(false, false, m, n, k, a, b, c1, 1);
            gpu.Gemm(false, false, m, n, k, a, b, c2, 1);
            float[] sums1 = new float[n], sums2 = new float[n];
            cpu.ColumnSums(c1, m, n, sums1);
            gpu.ColumnSums(c1, m, n, sums2);

            // Assert
            for (int i = 0; i < c1.Length; i++)
            {
                Assert.True(Math.Abs(c1[i] - c2[i]) <= 1e-5 * Math.Max(1, Math.Abs(c1[i])), $"{m}x{n}x{k}: {c1[i]} vs {c2[i]}");
            }

            Assert.Equal(sums1, sums2);
        }
    }

    [Fact]
    public void Train_CpuAndIlgpuBackends_AgreeAfterFixedSteps()
    {
        // Arrange
        TrainingSet data = Blobs(64, 2);
        var shape = new NetworkShape(4, [8], 2, NetworkHead.Multiclass);
        var options = new NetworkOptions([8], LearningRate: 0.01f, BatchSize: 16, Seed: 3);
        using var cpu = new CpuBackend(1);
        using var gpu = new IlgpuBackend(preferCuda: false);

        // Act: 3 epochs of 4 batches, no early stopping
        (float[] onCpu, _, _) = NetworkTrainer.Train(data, shape, options, cpu, epochs: 3);
        (float[] onGpu, _, _) = NetworkTrainer.Train(data, shape, options, gpu, epochs: 3);

        // Assert
        double worst = onCpu.Zip(onGpu).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1e-3, Math.Abs(p.First)));
        Assert.True(worst < 1e-4, $"largest relative difference {worst:G3}");
        Assert.StartsWith("ilgpu-", gpu.Name);
    }

    [Theory]
    [InlineData(NetworkHead.Binary, 1)]
    [InlineData(NetworkHead.Multiclass, 3)]
    [InlineData(NetworkHead.Regression, 1)]
    public void Export_RandomRowsWithMissingAndUnseenValues_OnnxRuntimeMatchesTheTrainer(NetworkHead head, int outputs)
    {
        // Arrange: numeric, boolean and categorical inputs; random parameters
        var featurization = new Featurization(
            [new NumericFeature("age", false, 41.5, 40, 12), new NumericFeature("smoker", true, 0.3, 0.3, 0.46), new NumericFeature("dose", false, 2, 1.5, 0.5)],
            [new CategoricalFeature("site", ["north", "south", "east"])]);
        var shape = new NetworkShape(featurization.Width, [5], outputs, head);
        var model = new ParametricModel(shape, featurization, RandomArray(shape.ParameterCount, 9), head == NetworkHead.Multiclass ? ["x", "y", "z"] : ["f", "t"],
            head == NetworkHead.Regression ? 100 : 0, head == NetworkHead.Regression ? 15 : 1, 1, 0);
        var random = new Random(2);
        var rows = Enumerable.Range(0, 50).Select(i => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>
        {
            ["age"] = i % 7 == 0 ? "" : (20 + random.NextDouble() * 50).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["smoker"] = i % 2 == 0 ? "true" : "false",
            ["dose"] = (random.NextDouble() * 3).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["site"] = i % 5 == 0 ? "west" : new[] { "north", "south", "east" }[i % 3],
        }).ToList();
        var columns = rows[0].Keys.ToDictionary(k => k, k => rows.Select(r => r[k] ?? "").ToArray());
        float[] x = new float[rows.Count * featurization.Width];
        for (int r = 0; r < rows.Count; r++)
        {
            featurization.Apply(columns, r, x.AsSpan(r * featurization.Width, featurization.Width));
        }

        // Act
        using var scorer = new OnnxScorer(NetworkOnnx.Export(model));
        Dictionary<string, float[][]> onnx = scorer.Score(rows);
        using var cpu = new CpuBackend();
        float[][] expected = NetworkTrainer.Predict(model, x, rows.Count, cpu);

        // Assert: the inputs are the feature columns, and outputs agree within 1e-4 (relative)
        Assert.Equal(["age", "smoker", "dose", "site"], scorer.Inputs.Select(i => i.Name));
        Assert.Equal(["float", "bool", "float", "string"], scorer.Inputs.Select(i => i.Type));
        float[][] actual = head == NetworkHead.Binary ? onnx["Probability.output"] : onnx["Score.output"];
        if (head == NetworkHead.Binary)
        {
            Assert.Equal(actual.Select(p => p[0] > 0.5f ? 1f : 0f), onnx["PredictedLabel.output"].Select(p => p[0]));
        }

        for (int r = 0; r < rows.Count; r++)
        {
            for (int j = 0; j < outputs; j++)
            {
                Assert.True(Math.Abs(expected[r][j] - actual[r][j]) <= 1e-4 * Math.Max(1, Math.Abs(expected[r][j])), $"row {r}: {expected[r][j]} vs {actual[r][j]}");
            }
        }
    }

    [Fact]
    public void WithOnlyOutputsRead_ModelDeclaringIntermediateOutputs_DropsThemAndScoresTheSame()
    {
        // Arrange: a model that also declares an intermediate column as an output, as ML.NET's default export does
        var featurization = new Featurization([new NumericFeature("age", false, 41.5, 40, 12), new NumericFeature("dose", false, 1, 1, 0.5)], []);
        var shape = new NetworkShape(featurization.Width, [4], 1, NetworkHead.Binary);
        Onnx.ModelProto proto = Onnx.ModelProto.Parser.ParseFrom(NetworkOnnx.Export(new ParametricModel(shape, featurization, RandomArray(shape.ParameterCount, 5), ["f", "t"], 0, 1, 1, 0)));
        proto.Graph.Output.Add(new Onnx.ValueInfoProto { Name = "num__raw", Type = proto.Graph.Output[0].Type });
        byte[] declaringMore = Google.Protobuf.MessageExtensions.ToByteArray(proto);
        var rows = Enumerable.Range(0, 20).Select(i => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>
        {
            ["age"] = (20 + i * 1.7).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["dose"] = (i * 0.3).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        }).ToList();

        // Act
        byte[] pruned = OnnxScorer.WithOnlyOutputsRead(declaringMore);
        using var scorer = new OnnxScorer(declaringMore);
        Dictionary<string, float[][]> scores = scorer.Score(rows);

        // Assert: only the outputs predictions read are left, and scores are those of the model as exported
        Assert.Equal(["PredictedLabel.output", "Probability.output", "Score.output"],
            Onnx.ModelProto.Parser.ParseFrom(pruned).Graph.Output.Select(o => o.Name).Order(StringComparer.Ordinal));
        using var asExported = new OnnxScorer(NetworkOnnx.Export(new ParametricModel(shape, featurization, RandomArray(shape.ParameterCount, 5), ["f", "t"], 0, 1, 1, 0)));
        Assert.Equal(asExported.Score(rows)["Probability.output"].Select(p => p[0]), scores["Probability.output"].Select(p => p[0]));
        Assert.Same(pruned, OnnxScorer.WithOnlyOutputsRead(pruned));
    }

    [Fact]
    public async Task Score_OneRowAtATimeConcurrently_MatchesTheBatchScore()
    {
        // Arrange: a model with numeric, boolean and text inputs; one-row calls reuse kept input tensors
        var featurization = new Featurization(
            [new NumericFeature("age", false, 41.5, 40, 12), new NumericFeature("smoker", true, 0.3, 0.3, 0.46)],
            [new CategoricalFeature("site", ["north", "south"])]);
        var shape = new NetworkShape(featurization.Width, [4], 1, NetworkHead.Binary);
        using var scorer = new OnnxScorer(NetworkOnnx.Export(new ParametricModel(shape, featurization, RandomArray(shape.ParameterCount, 4), ["f", "t"], 0, 1, 1, 0)));
        var rows = Enumerable.Range(0, 200).Select(i => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>
        {
            ["age"] = (20 + i * 0.37).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["smoker"] = i % 3 == 0 ? "true" : "false",
            ["site"] = i % 2 == 0 ? "north" : "south",
        }).ToList();
        float[][] batch = scorer.Score(rows)["Probability.output"];

        // Act: every row alone, from several threads at once
        float[][] single = new float[rows.Count][];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int r = t; r < rows.Count; r += 4)
            {
                single[r] = scorer.Score([rows[r]])["Probability.output"][0];
            }
        })));

        // Assert: the same numbers (a batch's matrix product may sum in another order than one row's)
        Assert.All(Enumerable.Range(0, rows.Count), r => Assert.True(Math.Abs(batch[r][0] - single[r][0]) <= 1e-6, $"row {r}: {batch[r][0]} vs {single[r][0]}"));
    }

    [Fact]
    public void ParametricModel_JsonRoundTrip_KeepsFlatParametersAndLayout()
    {
        var shape = new NetworkShape(3, [4, 2], 2, NetworkHead.Multiclass);
        var model = new ParametricModel(shape, new Featurization([new NumericFeature("a", false, 1, 1, 2)], [new CategoricalFeature("b", ["u", "v"])]),
            RandomArray(shape.ParameterCount, 1), ["p", "q"], 0, 1, 12, 0.25);

        ParametricModel back = JsonSerializer.Deserialize<ParametricModel>(JsonSerializer.Serialize(model))!;

        Assert.Equal(3 * 4 + 4 + 4 * 2 + 2 + 2 * 2 + 2, shape.ParameterCount);
        Assert.Equal(model.Parameters, back.Parameters);
        Assert.Equal(model.Shape.Hidden, back.Shape.Hidden);
        Assert.Equal(model.Featurization.Categorical[0].Categories, back.Featurization.Categorical[0].Categories);
        Assert.Equal(shape.Layout[^1].BiasOffset + 2, shape.ParameterCount);
    }

    [Fact]
    public void Fit_Featurization_StandardizesImputesAndOneHots()
    {
        ColumnSchema[] features = [new("n", ColumnKind.Numeric, false), new("b", ColumnKind.Boolean, false), new("c", ColumnKind.Categorical, false)];
        var columns = new Dictionary<string, string[]> { ["n"] = ["1", "3", ""], ["b"] = ["true", "false", "true"], ["c"] = ["x", "y", "x"] };

        Featurization f = Featurization.Fit(features, columns);
        float[] row = new float[f.Width];
        f.Apply(columns, 2, row);

        Assert.Equal(2, f.Numeric[0].Fill);
        Assert.Equal(["x", "y"], f.Categorical[0].Categories);
        Assert.Equal([0f, (float)((1 - 2.0 / 3) / Math.Sqrt(2.0 / 9)), 1f, 0f], row);
    }

    /// <summary>Gaussian blobs in four dimensions, one per class, well apart.</summary>
    private static TrainingSet Blobs(int rows, int classes)
    {
        var random = new Random(1);
        float[] x = new float[rows * 4], y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            int c = i % classes;
            y[i] = c;
            for (int d = 0; d < 4; d++)
            {
                x[i * 4 + d] = (float)((d == c ? 3 : 0) + random.NextDouble() - 0.5);
            }
        }

        return new TrainingSet(x, y, rows, 4);
    }
}
