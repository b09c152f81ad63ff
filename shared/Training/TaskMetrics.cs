namespace Lepton.Training;

/// <summary>Which metrics a task reports and which one selects the model, and in which direction.</summary>
public static class TaskMetrics
{
    public static string DefaultMetric(string task) => task switch
    {
        MlTasks.Binary => "auc",
        MlTasks.Multiclass => "macroF1",
        _ => "rmse",
    };

    public static IReadOnlyList<string> Allowed(string task) => task switch
    {
        MlTasks.Binary => ["auc", "accuracy", "f1", "logLoss"],
        MlTasks.Multiclass => ["macroF1", "logLoss", "microAccuracy", "macroAccuracy"],
        _ => ["rmse", "mae", "r2"],
    };

    /// <summary>What breaks a statistical tie on the selection metric: the share of rows classified correctly.</summary>
    public static IReadOnlyList<string> TieBreakers { get; } = ["accuracy", "microAccuracy"];

    public static bool HigherIsBetter(string metric) => metric is not ("rmse" or "mae" or "logLoss");

    /// <summary>True when <paramref name="candidate"/> is strictly better than <paramref name="incumbent"/> on the metric.</summary>
    public static bool IsBetter(string metric, double candidate, double incumbent) =>
        HigherIsBetter(metric) ? candidate > incumbent : candidate < incumbent;
}
