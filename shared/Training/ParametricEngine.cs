using Lepton.Storage;
using System.Globalization;
using System.Text.Json;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Learning;
using nietras.SeparatedValues;

namespace Lepton.Training;

/// <summary>
/// The candidates of Lepton's own learning core (<c>Mlp</c>, <c>Sgd</c>): featurization fitted on the training rows,
/// a network trained by back-propagation on the CPU backend, metrics computed like ML.NET's evaluators, and the ONNX
/// export checked against the trainer's own predictions before it is registered.
/// </summary>
public static class ParametricEngine
{
    public const string Mlp = "Mlp";
    public const string Sgd = "Sgd";
    public const double ParityTolerance = 1e-4;

    /// <summary>
    /// How far ONNX Runtime may differ from the trainer for this model: <see cref="ParityTolerance"/> for parameters of
    /// order one, more in proportion to their root mean square above that.
    /// </summary>
    /// <remarks>
    /// Both sides compute in float32, summing products in different orders, and the rounding error of a sum grows with its
    /// terms. A federated model trained under heavy differential-privacy noise (noise multiplier 20) has parameters of
    /// RMS 23, where two correct implementations differed by 2e-4 in probability; a wrong export differs by far more.
    /// </remarks>
    public static double ParityToleranceFor(ParametricModel model) =>
        ParityTolerance * Math.Max(1, Math.Sqrt(model.Parameters.Average(p => (double)p * p)));

    public static bool Handles(CandidateSpec candidate) => candidate.Trainer is Mlp or Sgd;

    /// <summary>
    /// The backend networks train on in this process: the CPU's SIMD kernels by default; the GPU trainer worker sets the
    /// ILGPU backend (CUDA when the machine has a device). Evaluation and parity checks stay on the CPU.
    /// </summary>
    public static Func<IComputeBackend> TrainingBackend { get; set; } = static () => new CpuBackend();

    /// <summary>Network options from a candidate's hyper-parameters (hidden1, hidden2, learningRate, l2, batch, epochs).</summary>
    public static NetworkOptions Options(CandidateSpec c, int seed)
    {
        double H(string name, double fallback) => c.HyperParameters.TryGetValue(name, out double v) ? v : fallback;
        int[] hidden = new[] { (int)H("hidden1", 0), (int)H("hidden2", 0) }.Where(h => h > 0).ToArray();
        return c.Trainer == Sgd
            ? new NetworkOptions(hidden, NetworkOptions.Sgd, (float)H("learningRate", 0.01), (float)H("l2", 1e-4), BatchSize: (int)H("batch", 32),
                MaxEpochs: (int)H("epochs", 200), Seed: seed)
            : new NetworkOptions(hidden, NetworkOptions.Adam, (float)H("learningRate", 1e-3), (float)H("l2", 1e-4), BatchSize: (int)H("batch", 200),
                MaxEpochs: (int)H("epochs", 200), Dropout: (float)H("dropout", 0), Seed: seed);
    }

    public static FoldResult EvaluateFold(TrainingPlan plan, CandidateSpec candidate, IReadOnlyList<string> classes, string trainPath, string testPath, int fold)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ParametricModel model = Fit(plan, candidate, classes, trainPath);
        return new FoldResult(candidate.Id, fold, Evaluate(plan, model, testPath), null, watch.Elapsed.TotalSeconds);
    }

    public static (Dictionary<string, double>? Metrics, string? Error) TrainAndEvaluate(
        TrainingPlan plan, CandidateSpec candidate, IReadOnlyList<string> classes, string trainPath, string evaluationPath)
    {
        try
        {
            return (Evaluate(plan, Fit(plan, candidate, classes, trainPath), evaluationPath), null);
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>The final model: trained on all rows, exported, and checked for parity with ONNX Runtime on up to 200 rows.</summary>
    public static FinalModel TrainFinal(TrainingPlan plan, CandidateSpec winner, IReadOnlyList<string> classes, string dataPath,
        IReadOnlyDictionary<string, string>? evaluationFiles, ParametricModel? warmStart = null, int? epochs = null)
    {
        ParametricModel model = Fit(plan, winner, classes, dataPath, warmStart, epochs);
        byte[] onnx = NetworkOnnx.Export(model);
        using var scorer = new OnnxScorer(onnx);
        (double difference, int rows) = Parity(plan, model, scorer, dataPath);
        if (difference > ParityToleranceFor(model))
        {
            throw new InvalidOperationException(
                $"ONNX parity check failed: ONNX Runtime and the trainer differ by up to {difference:G3} (relative tolerance {ParityToleranceFor(model):G3}) over {rows} rows.");
        }

        Dictionary<string, IReadOnlyDictionary<string, double>>? evaluation = evaluationFiles?.ToDictionary(
            e => e.Key, e => (IReadOnlyDictionary<string, double>)Evaluate(plan, model, e.Value));
        return new FinalModel(onnx, JsonSerializer.SerializeToUtf8Bytes(model, LeptonJson.Options), scorer.Inputs,
            plan.Task == MlTasks.Regression ? [] : model.Classes, difference, rows, evaluation);
    }

    public static ParametricModel ReadModel(byte[] stored) => JsonSerializer.Deserialize<ParametricModel>(stored, LeptonJson.Options)!;

    public static ParametricModel Fit(TrainingPlan plan, CandidateSpec candidate, IReadOnlyList<string> classes, string trainPath,
        ParametricModel? warmStart = null, int? epochs = null)
    {
        IReadOnlyList<ColumnSchema> features = Features(plan);
        Dictionary<string, string[]> columns = ReadColumns(trainPath, features.Select(f => f.Name).Append(plan.Label));
        // A warm start keeps the featurization it was trained with: its weights mean nothing on other scales.
        Featurization featurization = warmStart?.Featurization ?? Featurization.Fit(features, columns);
        (float[] targets, double center, double scale) = Targets(plan.Task, columns[plan.Label], classes, warmStart);
        int rows = targets.Length;
        if (rows == 0)
        {
            throw new InvalidOperationException("There are no rows to train on.");
        }

        float[] x = Matrix(featurization, columns, rows);
        NetworkHead head = plan.Task switch
        {
            MlTasks.Binary => NetworkHead.Binary,
            MlTasks.Multiclass => NetworkHead.Multiclass,
            _ => NetworkHead.Regression,
        };
        NetworkOptions options = Options(candidate, plan.Seed);
        var shape = new NetworkShape(featurization.Width, options.Hidden, head == NetworkHead.Multiclass ? classes.Count : 1, head);
        if (warmStart is not null && !warmStart.Shape.Widths.SequenceEqual(shape.Widths) || warmStart is not null && warmStart.Shape.Head != shape.Head)
        {
            throw new InvalidOperationException("The model to warm-start has another shape (features or classes changed); train a new one instead.");
        }

        using IComputeBackend backend = TrainingBackend();
        float[]? weights = null;
        if (TrainingEngine.Weighted(plan))
        {
            Dictionary<string, float> byClass = ClassWeighting.Weights(columns[plan.Label]);
            weights = columns[plan.Label].Select(l => byClass[l]).ToArray();
        }

        (float[] parameters, int trained, double? loss) = NetworkTrainer.Train(new TrainingSet(x, targets, rows, featurization.Width, weights), shape, options, backend,
            warmStart?.Parameters, epochs);
        return new ParametricModel(shape, featurization, parameters, plan.Task == MlTasks.Regression ? [] : classes, center, scale, trained, loss);
    }

    /// <summary>The task's metrics, as ML.NET's evaluators define them, on rows the model did not train on.</summary>
    public static Dictionary<string, double> Evaluate(TrainingPlan plan, ParametricModel model, string path)
    {
        Dictionary<string, string[]> columns = ReadColumns(path, model.Featurization.Numeric.Select(n => n.Name)
            .Concat(model.Featurization.Categorical.Select(c => c.Name)).Append(plan.Label));
        int rows = columns[plan.Label].Length;
        using var backend = new CpuBackend();
        float[][] outputs = NetworkTrainer.Predict(model, Matrix(model.Featurization, columns, rows), rows, backend);
        string[] labels = columns[plan.Label];
        return plan.Task switch
        {
            MlTasks.Binary => ModelMetrics.Binary(labels.Select(l => l == model.Classes[1]).ToArray(), outputs.Select(o => (double)o[0]).ToArray()),
            MlTasks.Multiclass => Multiclass(model, labels, outputs),
            _ => ModelMetrics.Regression(labels.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray(), outputs.Select(o => (double)o[0]).ToArray()),
        };
    }

    /// <summary>Rows of a class the model never saw are left out, as ML.NET's evaluator leaves out labels its key map lacks.</summary>
    private static Dictionary<string, double> Multiclass(ParametricModel model, string[] labels, float[][] outputs)
    {
        var known = labels.Select((l, i) => (Class: FindClass(model.Classes, l), Row: i)).Where(x => x.Class >= 0).ToArray();
        return ModelMetrics.Multiclass(known.Select(x => x.Class).ToArray(), known.Select(x => outputs[x.Row]).ToArray(), model.Classes.Count);
    }

    private static (double Difference, int Rows) Parity(TrainingPlan plan, ParametricModel model, OnnxScorer scorer, string dataPath)
    {
        List<IReadOnlyDictionary<string, string?>> sample = TrainingEngine.ReadRows(dataPath, 200);
        var columns = sample[0].Keys.ToDictionary(k => k, k => sample.Select(r => r[k] ?? "").ToArray());
        using var backend = new CpuBackend();
        float[][] expected = NetworkTrainer.Predict(model, Matrix(model.Featurization, columns, sample.Count), sample.Count, backend);
        Dictionary<string, float[][]> onnx = scorer.Score(sample);
        return (TrainingEngine.MaxRelativeDifference(expected, plan.Task == MlTasks.Binary ? onnx[Prediction.OnnxOutputs.Probability] : onnx[Prediction.OnnxOutputs.Score]), expected.Length);
    }

    private static IReadOnlyList<ColumnSchema> Features(TrainingPlan plan)
    {
        var features = plan.Schema.Columns.Where(c => c.Name != plan.Label && c.Kind is ColumnKind.Numeric or ColumnKind.Boolean or ColumnKind.Categorical).ToList();
        return features.Count > 0
            ? features
            : throw LeptonException.BadRequest("The dataset has no numeric, boolean or categorical column besides the label to learn from.");
    }

    internal static (float[] Targets, double Center, double Scale) Targets(string task, string[] labels, IReadOnlyList<string> classes, ParametricModel? warmStart)
    {
        switch (task)
        {
            case MlTasks.Binary:
                return (labels.Select(l => l == classes[1] ? 1f : 0f).ToArray(), 0, 1);
            case MlTasks.Multiclass:
                return (labels.Select(l => (float)IndexOf(classes, l)).ToArray(), 0, 1);
            default:
                double[] y = labels.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
                double center = warmStart?.TargetCenter ?? y.Average();
                double std = Math.Sqrt(y.Sum(v => (v - y.Average()) * (v - y.Average())) / Math.Max(1, y.Length));
                double scale = warmStart?.TargetScale ?? (std > 1e-12 ? std : 1);
                return (y.Select(v => (float)((v - center) / scale)).ToArray(), center, scale);
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string label) =>
        FindClass(classes, label) is >= 0 and var i ? i : throw new InvalidOperationException($"The label '{label}' is not one of the model's classes.");

    private static int FindClass(IReadOnlyList<string> classes, string label)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (classes[i] == label)
            {
                return i;
            }
        }

        return -1;
    }

    internal static float[] Matrix(Featurization featurization, IReadOnlyDictionary<string, string[]> columns, int rows)
    {
        float[] x = new float[rows * featurization.Width];
        for (int r = 0; r < rows; r++)
        {
            featurization.Apply(columns, r, x.AsSpan(r * featurization.Width, featurization.Width));
        }

        return x;
    }

    internal static Dictionary<string, string[]> ReadColumns(string path, IEnumerable<string> names)
    {
        using SepReader reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        string[] wanted = names.Distinct().ToArray();
        int[] indexes = wanted.Select(n => reader.Header.TryIndexOf(n, out int i) ? i : throw LeptonException.BadRequest($"Column '{n}' is missing from the data.")).ToArray();
        var values = wanted.Select(_ => new List<string>()).ToArray();
        foreach (SepReader.Row row in reader)
        {
            for (int c = 0; c < indexes.Length; c++)
            {
                values[c].Add(row[indexes[c]].ToString());
            }
        }

        return wanted.Select((n, c) => (n, c)).ToDictionary(x => x.n, x => values[x.c].ToArray());
    }
}

/// <summary>Metrics as ML.NET's evaluators define them (natural-log log-loss, threshold 0.5, macro averages over classes).</summary>
public static class ModelMetrics
{
    public static Dictionary<string, double> Binary(bool[] positive, double[] probability)
    {
        int n = positive.Length;
        long tp = 0, fp = 0, tn = 0, fn = 0;
        double logLoss = 0;
        for (int i = 0; i < n; i++)
        {
            bool predicted = probability[i] > 0.5;
            (tp, fp, tn, fn) = (positive[i], predicted) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (false, true) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                _ => (tp, fp, tn, fn + 1),
            };
            double p = Math.Clamp(positive[i] ? probability[i] : 1 - probability[i], 1e-15, 1);
            logLoss -= Math.Log(p);
        }

        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp), recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        var metrics = new Dictionary<string, double>
        {
            ["accuracy"] = (double)(tp + tn) / n, ["auc"] = Auc(positive, probability), ["precision"] = precision, ["recall"] = recall,
            ["f1"] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), ["logLoss"] = logLoss / n,
            ["truePositives"] = tp, ["falseNegatives"] = fn, ["falsePositives"] = fp, ["trueNegatives"] = tn,
        };
        return metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);
    }

    public static Dictionary<string, double> Multiclass(int[] labels, float[][] probabilities, int classes)
    {
        long[,] confusion = new long[classes, classes];
        double logLoss = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            float[] p = probabilities[i];
            int predicted = 0;
            for (int c = 1; c < classes; c++)
            {
                predicted = p[c] > p[predicted] ? c : predicted;
            }

            confusion[labels[i], predicted]++;
            logLoss -= Math.Log(Math.Clamp(p[labels[i]], 1e-15, 1));
        }

        var present = Enumerable.Range(0, classes).Where(c => Enumerable.Range(0, classes).Any(j => confusion[c, j] > 0)).ToArray();
        double Recall(int c) => (double)confusion[c, c] / Enumerable.Range(0, classes).Sum(j => confusion[c, j]);
        var metrics = new Dictionary<string, double>
        {
            ["microAccuracy"] = (double)Enumerable.Range(0, classes).Sum(c => confusion[c, c]) / labels.Length,
            ["macroAccuracy"] = present.Average(Recall),
            ["macroF1"] = MacroF1(classes, (i, j) => confusion[i, j]),
            ["logLoss"] = logLoss / labels.Length,
        };
        for (int i = 0; i < classes; i++)
        {
            for (int j = 0; j < classes; j++)
            {
                metrics[$"confusion_{i}_{j}"] = confusion[i, j];
            }
        }

        return metrics;
    }

    /// <summary>
    /// The mean F1 over the classes the rows hold or the model predicted (scikit-learn's macro average): a class a fold
    /// has no rows of and never predicts is left out rather than counted as F1 = 0. Counts are [true class, predicted class].
    /// </summary>
    public static double MacroF1(int classes, Func<int, int, double> count)
    {
        double sum = 0;
        int seen = 0;
        for (int c = 0; c < classes; c++)
        {
            double rows = 0, predicted = 0;
            for (int j = 0; j < classes; j++)
            {
                rows += count(c, j);
                predicted += count(j, c);
            }

            if (rows + predicted > 0)
            {
                // Both are positive whenever the class was predicted correctly at least once; otherwise its F1 is 0.
                double correct = count(c, c);
                sum += correct == 0 ? 0 : 2 * correct / (rows + predicted);
                seen++;
            }
        }

        return seen == 0 ? double.NaN : sum / seen;
    }

    public static Dictionary<string, double> Regression(double[] actual, double[] predicted)
    {
        double mean = actual.Average();
        double sse = actual.Zip(predicted).Sum(p => (p.First - p.Second) * (p.First - p.Second));
        double sst = actual.Sum(a => (a - mean) * (a - mean));
        return new Dictionary<string, double>
        {
            ["rmse"] = Math.Sqrt(sse / actual.Length),
            ["mae"] = actual.Zip(predicted).Average(p => Math.Abs(p.First - p.Second)),
            ["r2"] = sst == 0 ? 0 : 1 - sse / sst,
        };
    }

    /// <summary>Area under the ROC curve: the probability that a positive outranks a negative (ties count half).</summary>
    public static double Auc(bool[] positive, double[] score)
    {
        int[] order = Enumerable.Range(0, score.Length).OrderBy(i => score[i]).ToArray();
        double rankSum = 0;
        long positives = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && score[order[j + 1]] == score[order[i]])
            {
                j++;
            }

            double averageRank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++)
            {
                if (positive[order[k]])
                {
                    rankSum += averageRank;
                    positives++;
                }
            }

            i = j + 1;
        }

        long negatives = score.Length - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2.0) / (positives * negatives);
    }
}
