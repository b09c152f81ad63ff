using System.Diagnostics;
using System.Security.Cryptography;
using Lepton.Errors;
using Microsoft.ML;
using Microsoft.ML.Data;
using nietras.SeparatedValues;

namespace Lepton.Training;

/// <summary>A model trained on all rows, exported, and checked against ONNX Runtime.</summary>
public sealed record FinalModel(
    byte[] Onnx, byte[] ModelZip, IReadOnlyList<ModelInput> Inputs, IReadOnlyList<string> ClassLabels, double ParityMaxDifference, int ParityRows,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Evaluation = null);

/// <summary>The ML work of a training run on local files: one fold of one candidate, or the final model. No storage, no durable code.</summary>
public static class TrainingEngine
{
    public const double ParityTolerance = 1e-3;
    private const int ParitySampleRows = 200;

    public static FoldResult EvaluateFold(TrainingPlan plan, CandidateSpec candidate, string trainPath, string testPath, int fold)
    {
        // Every class of the run's rows, not only the fold's training rows: a class rarer than the folds is missing from
        // some folds' training rows, and its rows where they are tested must count as errors, not drop out of the metrics.
        IReadOnlyList<string> classes = [.. Classes(plan, trainPath).Union(Classes(plan, testPath)).Order(StringComparer.Ordinal)];
        if (ParametricEngine.Handles(candidate))
        {
            return ParametricEngine.EvaluateFold(plan, candidate, classes, trainPath, testPath, fold);
        }

        var watch = Stopwatch.StartNew();
        ModelFactory factory = Factory(plan, trainPath);
        IDataView train = factory.Load(trainPath), test = factory.Load(testPath);
        ITransformer labels = factory.LabelPreparation(classes, keysFromClasses: true).Fit(train);
        ITransformer model = factory.Pipeline(candidate).Fit(labels.Transform(train));
        // Undefined metrics (e.g. F1 with no positive prediction, infinite log-loss) are left out: JSON cannot carry them.
        Dictionary<string, double> metrics = factory.Evaluate(model.Transform(labels.Transform(test)))
            .Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);
        return new FoldResult(candidate.Id, fold, metrics, null, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Trains a candidate on one file and returns its metrics on another: a coalition's utility in a contribution run.
    /// Null when the rows cannot train the candidate (one class only, say): the caller scores it as the constant predictor.
    /// </summary>
    public static (Dictionary<string, double>? Metrics, string? Error) TrainAndEvaluate(TrainingPlan plan, CandidateSpec candidate, string trainPath, string evaluationPath)
    {
        if (ParametricEngine.Handles(candidate))
        {
            return ParametricEngine.TrainAndEvaluate(plan, candidate, Classes(plan, trainPath), trainPath, evaluationPath);
        }

        ModelFactory factory = Factory(plan, trainPath);
        IReadOnlyList<string> classes = Classes(plan, trainPath);
        try
        {
            IDataView train = factory.Load(trainPath);
            ITransformer labels = factory.LabelPreparation(classes, keysFromClasses: plan.Collaboration is not null).Fit(train);
            ITransformer model = factory.Pipeline(candidate).Fit(labels.Transform(train));
            return (Evaluate(factory, model, labels, evaluationPath), null);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or ArgumentOutOfRangeException)
        {
            return (null, e.Message);
        }
    }

    public static FinalModel TrainFinal(TrainingPlan plan, CandidateSpec winner, string dataPath, string workDirectory,
        IReadOnlyDictionary<string, string>? evaluationFiles = null)
    {
        if (ParametricEngine.Handles(winner))
        {
            return ParametricEngine.TrainFinal(plan, winner, Classes(plan, dataPath), dataPath, evaluationFiles);
        }

        ModelFactory factory = Factory(plan, dataPath);
        IReadOnlyList<string> classes = Classes(plan, dataPath);
        IDataView data = factory.Load(dataPath);
        ITransformer labels = factory.LabelPreparation(classes, keysFromClasses: plan.Collaboration is not null).Fit(data);
        IDataView prepared = labels.Transform(data);
        ITransformer model = factory.Pipeline(winner).Fit(prepared);
        Dictionary<string, IReadOnlyDictionary<string, double>>? evaluation = evaluationFiles?.ToDictionary(
            e => e.Key, e => (IReadOnlyDictionary<string, double>)Evaluate(factory, model, labels, e.Value));
        IReadOnlyList<string> classLabels = plan.Task == MlTasks.Multiclass ? KeyValues(prepared.Schema[ModelFactory.LabelColumn]) : classes;

        // The label never becomes an ONNX input: export from a view that holds only the feature columns.
        IDataView featuresOnly = factory.Load(dataPath, featuresOnly: true);
        byte[] onnx;
        using (var stream = new MemoryStream())
        {
            factory.Context.Model.ConvertToOnnx(model, featuresOnly, stream);
            // Stored as served: ML.NET declares every intermediate column as an output, which ONNX Runtime computes on each call.
            onnx = OnnxScorer.WithOnlyOutputsRead(stream.ToArray());
        }

        byte[] zip;
        using (var stream = new MemoryStream())
        {
            factory.Context.Model.Save(model, featuresOnly.Schema, stream);
            zip = stream.ToArray();
        }

        string sample = Path.Combine(workDirectory, $"parity-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(sample, File.ReadLines(dataPath).Take(ParitySampleRows + 1));
        try
        {
            using var scorer = new OnnxScorer(onnx);
            (double difference, int rows) = Parity(factory, model, scorer, sample, plan.Task);
            if (difference > ParityTolerance)
            {
                throw new InvalidOperationException(
                    $"ONNX parity check failed: ONNX Runtime and ML.NET scores differ by up to {difference:G3} (tolerance {ParityTolerance}) over {rows} rows.");
            }

            return new FinalModel(onnx, zip, scorer.Inputs, classLabels, difference, rows, evaluation);
        }
        finally
        {
            File.Delete(sample);
        }
    }

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>
    /// Up to this many cells (rows × columns of the run's data) trainers read their featurized rows from memory: about
    /// 40 MB of floats per training at the bound, a few hundred MB with a run's folds training at once. Larger data is
    /// streamed from the file on every pass, as before.
    /// </summary>
    public const long CacheFeaturesUpToCells = 10_000_000;

    /// <summary>The run's model factory for the rows in <paramref name="trainPath"/>, weighted by class when the request asks.</summary>
    private static ModelFactory Factory(TrainingPlan plan, string trainPath) => new(plan.Schema, plan.Label, plan.Task, plan.Seed)
    {
        ClassWeights = Weighted(plan) ? ClassWeighting.Weights(FoldSplitter.ReadColumn(trainPath, plan.Label)) : null,
        CacheFeatures = CachesFeatures(plan),
    };

    internal static bool CachesFeatures(TrainingPlan plan) => plan.Rows * Math.Max(1, plan.Schema.Columns.Count) <= CacheFeaturesUpToCells;

    /// <summary>Whether the plan's models weigh their training rows by class.</summary>
    public static bool Weighted(TrainingPlan plan) => plan.Request.ClassWeights is not null && plan.Task != MlTasks.Regression;

    /// <summary>
    /// Distinct label values in ordinal order: the classes of a classification task (binary: negative, positive). A
    /// collaboration's plan fixes them over every member's rows, so any subset of members learns the same classes.
    /// </summary>
    private static IReadOnlyList<string> Classes(TrainingPlan plan, string path) =>
        plan.Task == MlTasks.Regression ? []
        : plan.Collaboration is { Classes.Count: > 0 } c ? c.Classes
        : FoldSplitter.ReadColumn(path, plan.Label).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Metrics of a fitted model on rows it never saw; undefined ones (JSON cannot carry them) are left out.</summary>
    private static Dictionary<string, double> Evaluate(ModelFactory factory, ITransformer model, ITransformer labels, string path) =>
        factory.Evaluate(model.Transform(labels.Transform(factory.Load(path)))).Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);

    private static (double MaxDifference, int Rows) Parity(ModelFactory factory, ITransformer model, OnnxScorer scorer, string samplePath, string task)
    {
        IDataView scored = model.Transform(factory.Load(samplePath, featuresOnly: true));
        string column = task == MlTasks.Binary ? "Probability" : "Score";
        float[][] expected = task == MlTasks.Multiclass
            ? scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray()
            : scored.GetColumn<float>(column).Select(v => new[] { v }).ToArray();

        float[][] actual = scorer.Score(ReadRows(samplePath, int.MaxValue))[column + ".output"];
        return (MaxRelativeDifference(expected, actual), expected.Length);
    }

    /// <summary>Up to <paramref name="max"/> rows of a curated CSV as column → text, as the ONNX scorer takes them.</summary>
    internal static List<IReadOnlyDictionary<string, string?>> ReadRows(string path, int max)
    {
        var rows = new List<IReadOnlyDictionary<string, string?>>();
        using SepReader reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        string[] names = reader.Header.ColNames.ToArray();
        foreach (SepReader.Row row in reader)
        {
            if (rows.Count == max)
            {
                break;
            }

            var values = new Dictionary<string, string?>(names.Length);
            for (int i = 0; i < names.Length; i++)
            {
                values[names[i]] = row[i].ToString();
            }

            rows.Add(values);
        }

        return rows;
    }

    /// <summary>The largest difference between two models' outputs, relative to the first's magnitude (at least 1); NaN counts as infinite.</summary>
    internal static double MaxRelativeDifference(float[][] expected, float[][] actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            for (int j = 0; j < expected[i].Length; j++)
            {
                double difference = Math.Abs(expected[i][j] - actual[i][j]) / Math.Max(1, Math.Abs(expected[i][j]));
                max = double.IsNaN(difference) ? double.PositiveInfinity : Math.Max(max, difference);
            }
        }

        return max;
    }

    private static IReadOnlyList<string> KeyValues(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToList();
    }
}
