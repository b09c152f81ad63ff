using Lepton.Errors;

namespace Lepton.Training;

/// <summary>The trainers and hyper-parameter settings a run tries, per task.</summary>
public static class CandidateCatalog
{
    private static CandidateSpec C(string id, string trainer, params (string Name, double Value)[] hyper) =>
        new(id, trainer, hyper.ToDictionary(h => h.Name, h => h.Value));

    public static IReadOnlyList<CandidateSpec> For(string task) => task switch
    {
        MlTasks.Binary =>
        [
            C("lbfgs-lr-l2-1", "LbfgsLogisticRegression", ("l2", 1)),
            C("lbfgs-lr-l2-0.1", "LbfgsLogisticRegression", ("l2", 0.1)),
            C("lbfgs-lr-l2-0.01", "LbfgsLogisticRegression", ("l2", 0.01)),
            C("lbfgs-lr-std-l2-1", "LbfgsLogisticRegression", ("l2", 1), (ModelFactory.Standardize, 1)),
            C("sdca-lr", "SdcaLogisticRegression", ("l2", 0.001)),
            C("fasttree-20x100", "FastTree", ("leaves", 20), ("trees", 100), ("learningRate", 0.2)),
            C("lightgbm-31x200", "LightGbm", ("leaves", 31), ("iterations", 200), ("learningRate", 0.05)),
            .. Networks(),
        ],
        MlTasks.Multiclass =>
        [
            C("lbfgs-maxent-l2-1", "LbfgsMaximumEntropy", ("l2", 1)),
            C("lbfgs-maxent-l2-0.1", "LbfgsMaximumEntropy", ("l2", 0.1)),
            C("lbfgs-maxent-std-l2-1", "LbfgsMaximumEntropy", ("l2", 1), (ModelFactory.Standardize, 1)),
            C("sdca-maxent", "SdcaMaximumEntropy", ("l2", 0.001)),
            C("fasttree-ova-20x100", "FastTreeOva", ("leaves", 20), ("trees", 100), ("learningRate", 0.2)),
            C("lightgbm-31x200", "LightGbm", ("leaves", 31), ("iterations", 200), ("learningRate", 0.05)),
            .. Networks(),
        ],
        MlTasks.Regression =>
        [
            C("sdca-l2-0.1", "Sdca", ("l2", 0.1)),
            C("sdca-l2-0.001", "Sdca", ("l2", 0.001)),
            C("sdca-l2-0.00001", "Sdca", ("l2", 0.00001)),
            C("fasttree-20x100", "FastTree", ("leaves", 20), ("trees", 100), ("learningRate", 0.1)),
            C("lightgbm-15x200", "LightGbm", ("leaves", 15), ("iterations", 200), ("learningRate", 0.05)),
            .. Networks(),
        ],
        _ => throw LeptonException.BadRequest($"Unknown task '{task}': use binary, multiclass or regression."),
    };

    /// <summary>
    /// Lepton's own networks (shared/Learning): three multi-layer perceptrons trained with Adam — one of them
    /// scikit-learn's default MLP (100 hidden units), where its "best default" often lies — and a linear model trained by
    /// SGD with momentum; standardized inputs, L2, early stopping on a seeded validation split.
    /// </summary>
    private static IEnumerable<CandidateSpec> Networks() =>
    [
        C("mlp-64", ParametricEngine.Mlp, ("hidden1", 64), ("learningRate", 0.001), ("l2", 1e-4)),
        C("mlp-100", ParametricEngine.Mlp, ("hidden1", 100), ("learningRate", 0.001), ("l2", 1e-4)),
        C("mlp-128x64", ParametricEngine.Mlp, ("hidden1", 128), ("hidden2", 64), ("learningRate", 0.001), ("l2", 1e-4)),
        C("sgd-linear", ParametricEngine.Sgd, ("learningRate", 0.01), ("l2", 1e-4), ("batch", 32)),
    ];

    /// <summary>The task's candidates, or the subset the caller named.</summary>
    public static IReadOnlyList<CandidateSpec> Plan(string task, IReadOnlyList<string>? requested)
    {
        IReadOnlyList<CandidateSpec> all = For(task);
        if (requested is null || requested.Count == 0)
        {
            return all;
        }

        string[] unknown = requested.Where(r => all.All(c => c.Id != r)).ToArray();
        if (unknown.Length > 0)
        {
            throw LeptonException.BadRequest($"Unknown candidates {string.Join(", ", unknown)}; for {task}: {string.Join(", ", all.Select(c => c.Id))}.");
        }

        return all.Where(c => requested.Contains(c.Id)).ToList();
    }
}
