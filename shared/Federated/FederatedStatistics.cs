using Lepton.Ingestion;
using Lepton.Learning;
using Lepton.Training;

namespace Lepton.Federated;

/// <summary>Count, sum, sum of squares, minimum and maximum of a column's present values: enough for its mean and spread.</summary>
public sealed record NumericStatistics(long Count, double Sum, double SumOfSquares, double? Min, double? Max)
{
    public static NumericStatistics Empty { get; } = new(0, 0, 0, null, null);

    public NumericStatistics Add(NumericStatistics o) => new(Count + o.Count, Sum + o.Sum, SumOfSquares + o.SumOfSquares,
        Min is null ? o.Min : o.Min is null ? Min : Math.Min(Min.Value, o.Min.Value), Max is null ? o.Max : o.Max is null ? Max : Math.Max(Max.Value, o.Max.Value));
}

/// <summary>
/// What a member's training rows look like, in aggregates only: per numeric or boolean feature its statistics, per
/// categorical feature its category counts, and the label's class counts (or statistics, for regression).
/// </summary>
public sealed record MemberStatistics(
    string Member,
    long Rows,
    IReadOnlyDictionary<string, NumericStatistics> Numeric,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Categories,
    IReadOnlyDictionary<string, long> LabelCounts,
    NumericStatistics LabelValues);

/// <summary>Sufficient statistics of a model's predictions on a member's held-out rows: the metrics, never the rows.</summary>
public sealed record ValidationStatistics(
    long Count, double LossSum, long[] Confusion, long[] PositiveHistogram, long[] NegativeHistogram, double SquaredError, double AbsoluteError,
    double LabelSum, double LabelSumOfSquares);

/// <summary>Featurization from the members' aggregates, and metrics from their validation statistics.</summary>
public static class FederatedStatistics
{
    public const int HistogramBins = 1000;

    public static MemberStatistics Compute(string member, string path, IReadOnlyList<ColumnSchema> features, string label, string task)
    {
        Dictionary<string, string[]> columns = ParametricEngine.ReadColumns(path, features.Select(f => f.Name).Append(label));
        var numeric = new Dictionary<string, NumericStatistics>();
        var categories = new Dictionary<string, IReadOnlyDictionary<string, long>>();
        foreach (ColumnSchema f in features)
        {
            if (f.Kind == ColumnKind.Categorical)
            {
                categories[f.Name] = columns[f.Name].Where(v => v.Length > 0).GroupBy(v => v, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count());
            }
            else
            {
                numeric[f.Name] = Statistics(columns[f.Name].Select(v => Featurization.Parse(v, f.Kind == ColumnKind.Boolean)));
            }
        }

        string[] labels = columns[label];
        return new MemberStatistics(member, labels.Length, numeric, categories,
            task == MlTasks.Regression ? new Dictionary<string, long>() : labels.GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count()),
            task == MlTasks.Regression ? Statistics(labels.Select(l => Featurization.Parse(l, false))) : NumericStatistics.Empty);
    }

    /// <summary>The statistics of all members' rows together: exactly what one pass over the pooled rows would give.</summary>
    public static MemberStatistics Combine(IReadOnlyList<MemberStatistics> members) => new(
        "*",
        members.Sum(m => m.Rows),
        members.SelectMany(m => m.Numeric).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Select(p => p.Value).Aggregate(NumericStatistics.Empty, (a, b) => a.Add(b))),
        members.SelectMany(m => m.Categories).GroupBy(p => p.Key).ToDictionary(g => g.Key,
            g => (IReadOnlyDictionary<string, long>)g.SelectMany(p => p.Value).GroupBy(p => p.Key).ToDictionary(x => x.Key, x => x.Sum(p => p.Value))),
        members.SelectMany(m => m.LabelCounts).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value)),
        members.Select(m => m.LabelValues).Aggregate(NumericStatistics.Empty, (a, b) => a.Add(b)));

    /// <summary>The featurization every member applies: the same rule as <see cref="Featurization.Fit"/>, from aggregates.</summary>
    public static Featurization Featurize(MemberStatistics all, IReadOnlyList<ColumnSchema> features)
    {
        var numeric = new List<NumericFeature>();
        var categorical = new List<CategoricalFeature>();
        foreach (ColumnSchema f in features)
        {
            if (f.Kind == ColumnKind.Categorical)
            {
                categorical.Add(new CategoricalFeature(f.Name, all.Categories.GetValueOrDefault(f.Name, new Dictionary<string, long>())
                    .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(Featurization.MaxCategories).Select(c => c.Key).ToList()));
                continue;
            }

            NumericStatistics s = all.Numeric[f.Name];
            double mean = s.Count == 0 ? 0 : s.Sum / s.Count;
            double variance = s.Count < 2 ? 0 : Math.Max(0, s.SumOfSquares / s.Count - mean * mean);
            double std = Math.Sqrt(variance);
            numeric.Add(new NumericFeature(f.Name, f.Kind == ColumnKind.Boolean, mean, mean, std > 1e-12 ? std : 1));
        }

        return new Featurization(numeric, categorical);
    }

    /// <summary>A model's validation statistics on one file of held-out rows.</summary>
    public static ValidationStatistics Validate(ParametricModel model, string task, string label, string path)
    {
        Dictionary<string, string[]> columns = ParametricEngine.ReadColumns(path, model.Featurization.Numeric.Select(n => n.Name)
            .Concat(model.Featurization.Categorical.Select(c => c.Name)).Append(label));
        string[] labels = columns[label];
        int rows = labels.Length, k = Math.Max(1, model.Classes.Count);
        using var backend = new CpuBackend(1);
        float[][] outputs = NetworkTrainer.Predict(model, ParametricEngine.Matrix(model.Featurization, columns, rows), rows, backend);
        long[] confusion = new long[task == MlTasks.Regression ? 0 : k * k];
        long[] positive = new long[task == MlTasks.Binary ? HistogramBins : 0], negative = new long[positive.Length];
        double loss = 0, squared = 0, absolute = 0, sum = 0, sumSquares = 0;
        for (int i = 0; i < rows; i++)
        {
            if (task == MlTasks.Regression)
            {
                double y = Featurization.Parse(labels[i], false), e = outputs[i][0] - y;
                (squared, absolute, sum, sumSquares) = (squared + e * e, absolute + Math.Abs(e), sum + y, sumSquares + y * y);
                loss += e * e;
                continue;
            }

            int actual = IndexOf(model.Classes, labels[i]);
            if (actual < 0)
            {
                continue;
            }

            float[] p = task == MlTasks.Binary ? [1 - outputs[i][0], outputs[i][0]] : outputs[i];
            int predicted = Array.IndexOf(p, p.Max());
            confusion[actual * k + predicted]++;
            loss -= Math.Log(Math.Clamp(p[actual], 1e-15, 1));
            if (task == MlTasks.Binary)
            {
                int bin = Math.Min(HistogramBins - 1, (int)(p[1] * HistogramBins));
                (actual == 1 ? positive : negative)[bin]++;
            }
        }

        return new ValidationStatistics(rows, loss, confusion, positive, negative, squared, absolute, sum, sumSquares);
    }

    public static ValidationStatistics Sum(IReadOnlyList<ValidationStatistics> all) => new(
        all.Sum(s => s.Count), all.Sum(s => s.LossSum), Elementwise(all.Select(s => s.Confusion)), Elementwise(all.Select(s => s.PositiveHistogram)),
        Elementwise(all.Select(s => s.NegativeHistogram)), all.Sum(s => s.SquaredError), all.Sum(s => s.AbsoluteError), all.Sum(s => s.LabelSum),
        all.Sum(s => s.LabelSumOfSquares));

    /// <summary>The task's metrics from summed statistics (AUC from the score histograms, exact up to the bin width).</summary>
    public static Dictionary<string, double> Metrics(string task, ValidationStatistics s, int classes)
    {
        if (s.Count == 0)
        {
            return [];
        }

        if (task == MlTasks.Regression)
        {
            double sst = s.LabelSumOfSquares - s.LabelSum * s.LabelSum / s.Count;
            return new Dictionary<string, double>
            {
                ["rmse"] = Math.Sqrt(s.SquaredError / s.Count), ["mae"] = s.AbsoluteError / s.Count, ["r2"] = sst <= 0 ? 0 : 1 - s.SquaredError / sst,
            };
        }

        int k = Math.Max(1, classes);
        long Cell(int a, int p) => s.Confusion[a * k + p];
        long total = Enumerable.Range(0, k).Sum(a => Enumerable.Range(0, k).Sum(p => Cell(a, p)));
        double accuracy = (double)Enumerable.Range(0, k).Sum(c => Cell(c, c)) / Math.Max(1, total);
        var metrics = new Dictionary<string, double> { ["logLoss"] = s.LossSum / Math.Max(1, total) };
        int[] present = Enumerable.Range(0, k).Where(c => Enumerable.Range(0, k).Any(p => Cell(c, p) > 0)).ToArray();
        double Recall(int c) => (double)Cell(c, c) / Enumerable.Range(0, k).Sum(p => Cell(c, p));
        double Precision(int c) => Enumerable.Range(0, k).Sum(a => Cell(a, c)) is var predicted and > 0 ? (double)Cell(c, c) / predicted : 0;
        double F1(int c) => Precision(c) + Recall(c) == 0 ? 0 : 2 * Precision(c) * Recall(c) / (Precision(c) + Recall(c));
        if (task == MlTasks.Binary)
        {
            metrics["accuracy"] = accuracy;
            metrics["f1"] = F1(1);
            metrics["auc"] = HistogramAuc(s.PositiveHistogram, s.NegativeHistogram);
        }
        else
        {
            metrics["microAccuracy"] = accuracy;
            metrics["macroAccuracy"] = present.Average(Recall);
            metrics["macroF1"] = present.Average(F1);
        }

        return metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);
    }

    private static double HistogramAuc(long[] positive, long[] negative)
    {
        double pos = positive.Sum(), neg = negative.Sum(), below = 0, area = 0;
        for (int b = 0; b < positive.Length; b++)
        {
            area += positive[b] * (below + negative[b] / 2.0);
            below += negative[b];
        }

        return pos == 0 || neg == 0 ? double.NaN : area / (pos * neg);
    }

    private static long[] Elementwise(IEnumerable<long[]> arrays)
    {
        long[]? sum = null;
        foreach (long[] a in arrays)
        {
            sum ??= new long[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                sum[i] += a[i];
            }
        }

        return sum ?? [];
    }

    private static NumericStatistics Statistics(IEnumerable<double> values)
    {
        long count = 0;
        double sum = 0, squares = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values.Where(double.IsFinite))
        {
            (count, sum, squares, min, max) = (count + 1, sum + v, squares + v * v, Math.Min(min, v), Math.Max(max, v));
        }

        return count == 0 ? NumericStatistics.Empty : new NumericStatistics(count, sum, squares, min, max);
    }

    private static int IndexOf(IReadOnlyList<string> classes, string label)
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
}
