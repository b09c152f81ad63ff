using Lepton.Training;

namespace Lepton.Collaborations.Contributions;

/// <summary>
/// The utility of the empty coalition: the best constant prediction scored on the evaluation labels (the majority class,
/// the class distribution, or the mean), so a member's value is what its data adds over knowing nothing.
/// </summary>
public static class ConstantPredictor
{
    public static double Score(string task, string metric, IReadOnlyList<string> labels)
    {
        if (labels.Count == 0)
        {
            return double.NaN;
        }

        if (task == MlTasks.Regression)
        {
            double[] y = labels.Select(l => double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            double mean = y.Average();
            double[] sorted = y.Order().ToArray();
            double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            return metric switch
            {
                "rmse" => Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / y.Length),
                "mae" => y.Sum(v => Math.Abs(v - median)) / y.Length,
                _ => 0, // r2 of the mean
            };
        }

        double[] shares = labels.GroupBy(l => l, StringComparer.Ordinal).Select(g => (double)g.Count() / labels.Count).OrderDescending().ToArray();
        double majority = shares[0];
        double entropy = -shares.Where(p => p > 0).Sum(p => p * Math.Log(p));
        return (task, metric) switch
        {
            (_, "logLoss") => entropy,
            (MlTasks.Binary, "auc") => 0.5,
            (MlTasks.Binary, "accuracy") => majority,
            // Calling everything positive is the best constant for F1: 2p / (1 + p) with p the positive share.
            (MlTasks.Binary, "f1") => 2 * PositiveShare(labels) / (1 + PositiveShare(labels)),
            (_, "microAccuracy") => majority,
            (_, "macroAccuracy") => 1.0 / shares.Length,
            (_, "macroF1") => 2 * majority / (1 + majority) / shares.Length,
            _ => double.NaN,
        };
    }

    /// <summary>The share of the positive class: the second of the two classes in ordinal order ("true" after "false").</summary>
    private static double PositiveShare(IReadOnlyList<string> labels)
    {
        string positive = labels.Distinct().Order(StringComparer.Ordinal).Last();
        return (double)labels.Count(l => l == positive) / labels.Count;
    }
}
