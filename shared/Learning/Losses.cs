namespace Lepton.Learning;

/// <summary>
/// Losses on logits, averaged over the batch, with their gradient with respect to the logits. Classification losses
/// take the logits (not probabilities) so the sigmoid and softmax are computed stably inside them.
/// </summary>
public static class Losses
{
    /// <summary>Mean squared error: mean over rows of (z − y)².</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, Span<float> gradient)
    {
        double loss = 0;
        for (int i = 0; i < rows; i++)
        {
            double d = predictions[i] - targets[i];
            loss += d * d;
            gradient[i] = (float)(2 * d / rows);
        }

        return loss / rows;
    }

    /// <summary>Binary cross-entropy on one logit per row: mean of log(1 + e^z) − y·z.</summary>
    public static double BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, Span<float> gradient)
    {
        double loss = 0;
        for (int i = 0; i < rows; i++)
        {
            double z = logits[i];
            loss += Softplus(z) - targets[i] * z;
            gradient[i] = (float)((Sigmoid(z) - targets[i]) / rows);
        }

        return loss / rows;
    }

    /// <summary>Categorical cross-entropy on one logit per class: mean of −log softmax(z)[y]. Targets are class indexes.</summary>
    public static double CategoricalCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, int classes, Span<float> gradient)
    {
        double loss = 0;
        Span<double> p = classes <= 256 ? stackalloc double[classes] : new double[classes];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> z = logits.Slice(i * classes, classes);
            int y = (int)targets[i];
            double logSum = Softmax(z, p);
            loss += logSum - z[y];
            for (int c = 0; c < classes; c++)
            {
                gradient[i * classes + c] = (float)((p[c] - (c == y ? 1 : 0)) / rows);
            }
        }

        return loss / rows;
    }

    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>Writes softmax(z) to p and returns log Σ e^z, both shifted by the maximum for stability.</summary>
    public static double Softmax(ReadOnlySpan<float> z, Span<double> p)
    {
        double max = double.NegativeInfinity;
        foreach (float v in z)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        for (int c = 0; c < z.Length; c++)
        {
            p[c] = Math.Exp(z[c] - max);
            sum += p[c];
        }

        for (int c = 0; c < z.Length; c++)
        {
            p[c] /= sum;
        }

        return max + Math.Log(sum);
    }

    private static double Softplus(double z) => z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z));
}
