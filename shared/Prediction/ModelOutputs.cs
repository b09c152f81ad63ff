using Lepton.Training;

namespace Lepton.Prediction;

/// <summary>The output names every Lepton model's ONNX graph carries (ML.NET's convention, which Lepton's own networks follow).</summary>
public static class OnnxOutputs
{
    public const string Score = "Score.output";
    public const string Probability = "Probability.output";
    public const string PredictedLabel = "PredictedLabel.output";
}

/// <summary>
/// The one reading of a model's raw outputs as predictions, shared by the predict route and batch scoring, so both
/// name classes, threshold binary models and pick the multiclass winner the same way.
/// </summary>
public static class ModelOutputs
{
    public static IReadOnlyList<Prediction> Interpret(ModelVersion model, Dictionary<string, float[][]> outputs, int count)
    {
        var predictions = new List<Prediction>(count);
        for (int i = 0; i < count; i++)
        {
            predictions.Add(InterpretRow(model, outputs, i));
        }

        return predictions;
    }

    /// <summary>
    /// One row's prediction. Batch scoring reads a chunk's rows one at a time as it writes them, so each prediction is
    /// garbage at once instead of tens of thousands of them outliving several collections.
    /// </summary>
    public static Prediction InterpretRow(ModelVersion model, Dictionary<string, float[][]> outputs, int row)
    {
        float[][]? scores = outputs.GetValueOrDefault(OnnxOutputs.Score);
        return model.Task switch
        {
            MlTasks.Binary => Binary(model, outputs.GetValueOrDefault(OnnxOutputs.PredictedLabel)?[row][0],
                outputs.GetValueOrDefault(OnnxOutputs.Probability)?[row][0] ?? float.NaN, scores?[row][0] ?? float.NaN),
            MlTasks.Multiclass => Multiclass(model, scores![row]),
            _ => new Prediction(null, scores?[row][0] ?? float.NaN, null),
        };
    }

    /// <summary>The positive class's name of a binary model: its second class label, or "true" when it has none.</summary>
    public static string PositiveClass(ModelVersion model) => model.ClassLabels.Count == 2 ? model.ClassLabels[1] : "true";

    private static string NegativeClass(ModelVersion model) => model.ClassLabels.Count == 2 ? model.ClassLabels[0] : "false";

    private static Prediction Binary(ModelVersion model, float? predicted, float probability, float score)
    {
        bool positive = predicted is { } p ? p > 0.5f : probability >= 0.5f;
        string negativeName = NegativeClass(model), positiveName = PositiveClass(model);
        return new Prediction(positive ? positiveName : negativeName, score,
            float.IsNaN(probability) ? null : new Dictionary<string, float> { [negativeName] = 1 - probability, [positiveName] = probability });
    }

    private static Prediction Multiclass(ModelVersion model, float[] scores)
    {
        int best = Array.IndexOf(scores, scores.Max());
        var probabilities = scores.Select((s, k) => (Name: k < model.ClassLabels.Count ? model.ClassLabels[k] : k.ToString(), s)).ToDictionary(x => x.Name, x => x.s);
        return new Prediction(best < model.ClassLabels.Count ? model.ClassLabels[best] : best.ToString(), scores[best], probabilities);
    }
}
