using Lepton.Training;
using Microsoft.ML.OnnxRuntime;

namespace Lepton.Prediction;

/// <summary>
/// The rows of a batch that ONNX Runtime cannot score. Values far outside what a model learned from make its arithmetic
/// overflow, and a node that refuses NaN (ML.NET's <c>Binarizer</c> behind a linear score) stops the whole run: the
/// predict route and batch scoring both name the rows at fault instead of failing as the platform.
/// </summary>
public static class UnscorableRows
{
    /// <summary>Why such a row has no prediction, as the caller reads it.</summary>
    public const string Why = "its arithmetic gives no number (are its values far outside the data the model was trained on?)";

    /// <summary>
    /// After <paramref name="failure"/> on the whole batch, scores each row on its own and returns the ones that fail
    /// (only off the hot path: the batch already failed). If no single row fails, or every row does and so does a row of
    /// zeros (a model that cannot score anything is broken, not given bad rows), the failure is the platform's and is
    /// thrown again as it was.
    /// </summary>
    public static IReadOnlyList<int> Find(Func<ScoringBatch, Dictionary<string, float[][]>> score, ScoringBatch batch, OnnxRuntimeException failure)
    {
        var rows = new List<int>();
        for (int row = 0; row < batch.Rows; row++)
        {
            try
            {
                score(batch.Row(row));
            }
            catch (OnnxRuntimeException)
            {
                rows.Add(row);
            }
        }

        if (rows.Count == 0 || (rows.Count == batch.Rows && !Scores(score, ScoringBatch.Neutral(batch.Inputs))))
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return rows;
    }

    private static bool Scores(Func<ScoringBatch, Dictionary<string, float[][]>> score, ScoringBatch row)
    {
        try
        {
            score(row);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }
}
