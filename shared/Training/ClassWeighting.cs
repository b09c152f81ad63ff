using Lepton.Errors;

namespace Lepton.Training;

/// <summary>
/// Class weights for skewed labels: the request's <c>classWeights</c> setting, and the weight of each class's rows.
/// </summary>
/// <remarks>
/// "balanced" is scikit-learn's rule: a class with <c>c</c> of <c>n</c> training rows, among <c>k</c> classes present,
/// weighs <c>n / (k · c)</c>, so every class carries the same total weight and the average row weighs 1. Weights are
/// computed from the rows each model trains on (a fold's training rows, or all rows for the final model); the
/// evaluation rows and the metrics stay unweighted, so the leaderboard reports what the model does on the data as it is.
/// </remarks>
public static class ClassWeighting
{
    public const string Balanced = "balanced";

    /// <summary>The setting as a plan carries it (null: unweighted), or a 400 naming what is allowed.</summary>
    public static string? Parse(string? value, string? task)
    {
        if (value is null || value.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!value.Equals(Balanced, StringComparison.OrdinalIgnoreCase))
        {
            throw LeptonException.BadRequest($"'classWeights' is \"balanced\" or \"none\", not '{TrainingRequestRules.Truncate(value)}'.");
        }

        return task == MlTasks.Regression ? throw NotForRegression() : Balanced;
    }

    /// <summary>The error when the run's task turns out to be regression (the task may be inferred from the rows).</summary>
    public static LeptonException NotForRegression() =>
        LeptonException.BadRequest("'classWeights' applies to classification; this run's task is regression. Leave it out or set the task.");

    /// <summary>Each class's weight over the given labels (one per training row): n / (classes present × rows of the class).</summary>
    public static Dictionary<string, float> Weights(IReadOnlyList<string> labels)
    {
        Dictionary<string, int> counts = labels.CountBy(l => l, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        return counts.ToDictionary(c => c.Key, c => (float)(labels.Count / ((double)counts.Count * c.Value)), StringComparer.Ordinal);
    }
}
