namespace Lepton.Learning;

/// <summary>
/// How a network is trained. Defaults follow scikit-learn's MLP (Adam, learning rate 1e-3, L2 1e-4, batches of up to
/// 200, at most 200 epochs). With at least <see cref="ValidationMinimumRows"/> rows, early stopping watches a seeded
/// validation split (<see cref="ValidationFraction"/>) and keeps the best epoch's parameters; with fewer, a validation
/// split would be too small to judge by, so training stops when the training loss has not improved by 1e-4 for
/// <see cref="Patience"/> epochs, as scikit-learn does by default.
/// </summary>
public sealed record NetworkOptions(
    IReadOnlyList<int> Hidden,
    string Optimizer = NetworkOptions.Adam,
    float LearningRate = 1e-3f,
    float L2 = 1e-4f,
    float Momentum = 0.9f,
    int BatchSize = 200,
    int MaxEpochs = 200,
    int Patience = 10,
    double ValidationFraction = 0.1,
    float Dropout = 0,
    int Seed = 42,
    int ValidationMinimumRows = 10_000)
{
    public const string Adam = "adam";
    public const string Sgd = "sgd";
}

/// <summary>
/// Rows of features (row-major, rows × width) and their targets: a value, 0/1, or a class index; optionally a weight per
/// row (class weights), which scales the row's gradient.
/// </summary>
public sealed record TrainingSet(float[] Features, float[] Targets, int Rows, int Width, float[]? Weights = null);

/// <summary>
/// A trained parametric model: featurization, network shape and flat parameters, and what its outputs mean (classes,
/// or the regression target's scale). Serializable as JSON, so it can be stored, warm-started and averaged.
/// </summary>
public sealed record ParametricModel(
    NetworkShape Shape,
    Featurization Featurization,
    float[] Parameters,
    IReadOnlyList<string> Classes,
    double TargetCenter,
    double TargetScale,
    int Epochs,
    double? ValidationLoss,
    string? WarmStartedFrom = null);

/// <summary>Mini-batch training of a <see cref="Network"/>: seeded shuffles, dropout and validation split, so a seed gives the same model.</summary>
public static class NetworkTrainer
{
    /// <returns>The parameters (the best epoch's, with a validation split), the epochs trained, and the best validation loss, if any.</returns>
    public static (float[] Parameters, int Epochs, double? ValidationLoss) Train(
        TrainingSet data, NetworkShape shape, NetworkOptions options, IComputeBackend backend, float[]? start = null, int? epochs = null, float proximalMu = 0)
    {
        // FedProx: the local objective gains (μ/2)·‖θ − θ_start‖², so local training stays near the global model.
        float[]? anchor = proximalMu > 0 && start is not null ? (float[])start.Clone() : null;
        var random = new Random(options.Seed);
        int[] order = Enumerable.Range(0, data.Rows).ToArray();
        random.Shuffle(order);
        int validationRows = epochs is null && data.Rows >= options.ValidationMinimumRows ? (int)(data.Rows * options.ValidationFraction) : 0;
        int[] validation = order[..validationRows], training = order[validationRows..];
        int batch = Math.Max(1, Math.Min(options.BatchSize, training.Length));
        var network = new Network(shape, backend, Math.Max(batch, Math.Min(validationRows, 4096)), options.Dropout);
        if (start is null)
        {
            network.Initialize(options.Seed);
        }
        else
        {
            start.CopyTo(network.Parameters, 0);
        }

        IOptimizer optimizer = options.Optimizer == NetworkOptions.Sgd
            ? new SgdMomentum(shape.ParameterCount, options.LearningRate, options.Momentum, options.L2)
            : new AdamW(shape.ParameterCount, options.LearningRate, options.L2);
        float[] x = new float[batch * data.Width], y = new float[batch], gradient = new float[batch * shape.Outputs];
        float[]? w = data.Weights is null ? null : new float[batch];
        float[] best = (float[])network.Parameters.Clone();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, maxEpochs = epochs ?? options.MaxEpochs, epoch = 0;
        var dropoutRandom = new Random(options.Seed + 1);
        double bestTrainingLoss = double.PositiveInfinity;
        int stale = 0;
        for (epoch = 1; epoch <= maxEpochs; epoch++)
        {
            random.Shuffle(training);
            double trainingLoss = 0;
            for (int from = 0; from < training.Length; from += batch)
            {
                int rows = Math.Min(batch, training.Length - from);
                Gather(data, training.AsSpan(from, rows), x, y, w);
                ReadOnlySpan<float> logits = network.Forward(x, rows, options.Dropout > 0 ? dropoutRandom : null);
                trainingLoss += Loss(shape, logits, y, rows, gradient) * rows;
                if (w is not null)
                {
                    // The weighted loss's gradient: each row's share scaled by its weight. The stopping rule keeps
                    // watching the unweighted loss, which weights averaging 1 leave on the same scale.
                    for (int i = 0; i < rows * shape.Outputs; i++)
                    {
                        gradient[i] *= w[i / shape.Outputs];
                    }
                }

                network.Backward(gradient, rows, options.Dropout > 0);
                if (anchor is not null)
                {
                    for (int j = 0; j < anchor.Length; j++)
                    {
                        network.Gradient[j] += proximalMu * (network.Parameters[j] - anchor[j]);
                    }
                }

                optimizer.Step(network.Parameters, network.Gradient);
            }

            if (validationRows == 0)
            {
                // Without a validation split (or with a fixed epoch count): stop once the training loss stalls.
                trainingLoss /= training.Length;
                stale = trainingLoss > bestTrainingLoss - 1e-4 ? stale + 1 : 0;
                bestTrainingLoss = Math.Min(bestTrainingLoss, trainingLoss);
                if (epochs is null && stale >= options.Patience)
                {
                    maxEpochs = epoch;
                    break;
                }

                continue;
            }

            double loss = Evaluate(network, data, validation, shape);
            if (loss < bestLoss - 1e-6)
            {
                (bestLoss, bestEpoch) = (loss, epoch);
                network.Parameters.CopyTo(best, 0);
            }
            else if (epoch - bestEpoch >= options.Patience)
            {
                break;
            }
        }

        return validationRows == 0 || !double.IsFinite(bestLoss) ? (network.Parameters, maxEpochs, null) : (best, bestEpoch, bestLoss);
    }

    /// <summary>Outputs per row: P(positive) for binary, class probabilities for multiclass, the (unscaled) value for regression.</summary>
    public static float[][] Predict(ParametricModel model, float[] features, int rows, IComputeBackend backend)
    {
        var network = new Network(model.Shape, backend, Math.Min(Math.Max(rows, 1), 1024));
        model.Parameters.CopyTo(network.Parameters, 0);
        var results = new float[rows][];
        Span<double> p = stackalloc double[Math.Max(1, model.Shape.Outputs)];
        for (int from = 0; from < rows; from += network.MaxBatch)
        {
            int count = Math.Min(network.MaxBatch, rows - from);
            ReadOnlySpan<float> logits = network.Forward(features.AsSpan(from * model.Shape.Inputs, count * model.Shape.Inputs), count);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> z = logits.Slice(i * model.Shape.Outputs, model.Shape.Outputs);
                results[from + i] = model.Shape.Head switch
                {
                    NetworkHead.Binary => [(float)Losses.Sigmoid(z[0])],
                    NetworkHead.Multiclass => Probabilities(z, p),
                    _ => [(float)(z[0] * model.TargetScale + model.TargetCenter)],
                };
            }
        }

        return results;
    }

    private static float[] Probabilities(ReadOnlySpan<float> z, Span<double> p)
    {
        Losses.Softmax(z, p);
        var result = new float[z.Length];
        for (int c = 0; c < z.Length; c++)
        {
            result[c] = (float)p[c];
        }

        return result;
    }

    private static double Loss(NetworkShape shape, ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, Span<float> gradient) => shape.Head switch
    {
        NetworkHead.Binary => Losses.BinaryCrossEntropy(logits, targets, rows, gradient),
        NetworkHead.Multiclass => Losses.CategoricalCrossEntropy(logits, targets, rows, shape.Outputs, gradient),
        _ => Losses.MeanSquaredError(logits, targets, rows, gradient),
    };

    private static double Evaluate(Network network, TrainingSet data, int[] rows, NetworkShape shape)
    {
        double total = 0;
        float[] x = new float[network.MaxBatch * data.Width], y = new float[network.MaxBatch], gradient = new float[network.MaxBatch * shape.Outputs];
        for (int from = 0; from < rows.Length; from += network.MaxBatch)
        {
            int count = Math.Min(network.MaxBatch, rows.Length - from);
            Gather(data, rows.AsSpan(from, count), x, y);
            total += Loss(shape, network.Forward(x, count), y, count, gradient) * count;
        }

        return total / rows.Length;
    }

    private static void Gather(TrainingSet data, ReadOnlySpan<int> rows, float[] x, float[] y, float[]? weights = null)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            data.Features.AsSpan(rows[i] * data.Width, data.Width).CopyTo(x.AsSpan(i * data.Width, data.Width));
            y[i] = data.Targets[rows[i]];
            if (weights is not null)
            {
                weights[i] = data.Weights![rows[i]];
            }
        }
    }
}
