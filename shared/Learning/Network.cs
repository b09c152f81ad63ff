namespace Lepton.Learning;

/// <summary>What the network predicts, which decides its output head and loss.</summary>
public enum NetworkHead
{
    /// <summary>One linear output, mean squared error.</summary>
    Regression,

    /// <summary>One logit; sigmoid gives P(positive); binary cross-entropy.</summary>
    Binary,

    /// <summary>One logit per class; softmax gives the class probabilities; categorical cross-entropy.</summary>
    Multiclass,
}

/// <summary>The shape of a network: inputs, hidden layer widths (none = a linear model), outputs, head.</summary>
public sealed record NetworkShape(int Inputs, IReadOnlyList<int> Hidden, int Outputs, NetworkHead Head)
{
    /// <summary>Widths of every layer boundary, inputs first.</summary>
    public int[] Widths => [Inputs, .. Hidden, Outputs];

    public int LayerCount => Hidden.Count + 1;

    /// <summary>Where each dense layer's weights (in × out, row-major) and bias (out) sit in the flat parameter vector.</summary>
    public IReadOnlyList<DenseLayout> Layout
    {
        get
        {
            int[] widths = Widths;
            var layers = new List<DenseLayout>(LayerCount);
            int offset = 0;
            for (int l = 0; l < LayerCount; l++)
            {
                int weights = widths[l] * widths[l + 1];
                layers.Add(new DenseLayout(widths[l], widths[l + 1], offset, offset + weights));
                offset += weights + widths[l + 1];
            }

            return layers;
        }
    }

    public int ParameterCount => Layout[^1].BiasOffset + Outputs;
}

public sealed record DenseLayout(int In, int Out, int WeightOffset, int BiasOffset);

/// <summary>
/// A multi-layer perceptron (Linear → ReLU [→ Dropout] … → Linear) over one flat parameter vector, so parameters can
/// be averaged, clipped, noised, serialized and sent. Forward and backward passes on a mini-batch through a backend;
/// the buffers are reused across batches of up to <see cref="MaxBatch"/> rows.
/// </summary>
public sealed class Network
{
    private readonly IComputeBackend _backend;
    private readonly IReadOnlyList<DenseLayout> _layout;
    private readonly float[][] _activations;
    private readonly float[][] _gradients;
    private readonly float[][] _masks;

    public Network(NetworkShape shape, IComputeBackend backend, int maxBatch, float dropout = 0)
    {
        Shape = shape;
        _backend = backend;
        _layout = shape.Layout;
        MaxBatch = maxBatch;
        Dropout = dropout;
        int[] widths = shape.Widths;
        _activations = widths.Select(w => new float[maxBatch * w]).ToArray();
        _gradients = widths.Select(w => new float[maxBatch * w]).ToArray();
        _masks = widths.Select(w => dropout > 0 ? new float[maxBatch * w] : []).ToArray();
        Parameters = new float[shape.ParameterCount];
        Gradient = new float[shape.ParameterCount];
    }

    public NetworkShape Shape { get; }

    public int MaxBatch { get; }

    public float Dropout { get; }

    /// <summary>All weights and biases, layer by layer (see <see cref="NetworkShape.Layout"/>).</summary>
    public float[] Parameters { get; }

    /// <summary>The gradient of the last <see cref="Backward"/>, in the layout of <see cref="Parameters"/>.</summary>
    public float[] Gradient { get; }

    /// <summary>Glorot-uniform weights and biases in every layer, as scikit-learn's MLP initializes them; seeded.</summary>
    /// <remarks>
    /// Each layer's weights and biases are drawn from ±√(6 / (in + out)). He-uniform ReLU layers (±√(6 / in)) with zero
    /// biases, used before, trained to 1.3–7 points less accuracy on the same folds (docs/benchmarks.md, "initialization"):
    /// the wider start leaves the network in a worse basin that 200 epochs of Adam at 1e-3 do not leave, and non-zero
    /// biases keep more ReLU units alive from the first batch.
    /// </remarks>
    public void Initialize(int seed)
    {
        var random = new Random(seed);
        foreach (DenseLayout layer in _layout)
        {
            double limit = Math.Sqrt(6.0 / (layer.In + layer.Out));
            for (int i = 0; i < layer.In * layer.Out; i++)
            {
                Parameters[layer.WeightOffset + i] = (float)((random.NextDouble() * 2 - 1) * limit);
            }

            for (int i = 0; i < layer.Out; i++)
            {
                Parameters[layer.BiasOffset + i] = (float)((random.NextDouble() * 2 - 1) * limit);
            }
        }
    }

    /// <summary>
    /// Computes the output logits of <paramref name="rows"/> input rows (rows × Inputs, row-major). With a random
    /// source, dropout is applied (inverted: kept units scaled by 1/(1-p)); without, the network is in inference mode.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> inputs, int rows, Random? dropoutRandom = null)
    {
        inputs[..(rows * Shape.Inputs)].CopyTo(_activations[0]);
        for (int l = 0; l < _layout.Count; l++)
        {
            DenseLayout layer = _layout[l];
            Span<float> output = _activations[l + 1].AsSpan(0, rows * layer.Out);
            _backend.Gemm(false, false, rows, layer.Out, layer.In, _activations[l].AsSpan(0, rows * layer.In),
                Parameters.AsSpan(layer.WeightOffset, layer.In * layer.Out), output, 0);
            _backend.AddRowVector(output, rows, layer.Out, Parameters.AsSpan(layer.BiasOffset, layer.Out));
            if (l < _layout.Count - 1)
            {
                _backend.Relu(output);
                if (dropoutRandom is not null && Dropout > 0)
                {
                    Span<float> mask = _masks[l + 1].AsSpan(0, output.Length);
                    float keep = 1 / (1 - Dropout);
                    for (int i = 0; i < output.Length; i++)
                    {
                        mask[i] = dropoutRandom.NextSingle() < Dropout ? 0 : keep;
                        output[i] *= mask[i];
                    }
                }
            }
        }

        return _activations[^1].AsSpan(0, rows * Shape.Outputs);
    }

    /// <summary>
    /// Back-propagates the gradient of the loss with respect to the logits of the last <see cref="Forward"/> and writes
    /// the gradient of every parameter to <see cref="Gradient"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient, int rows, bool dropoutApplied = false)
    {
        outputGradient[..(rows * Shape.Outputs)].CopyTo(_gradients[^1]);
        for (int l = _layout.Count - 1; l >= 0; l--)
        {
            DenseLayout layer = _layout[l];
            Span<float> delta = _gradients[l + 1].AsSpan(0, rows * layer.Out);
            ReadOnlySpan<float> input = _activations[l].AsSpan(0, rows * layer.In);
            // dW = inputᵀ · delta; db = Σ rows of delta; d(input) = delta · Wᵀ.
            _backend.Gemm(true, false, layer.In, layer.Out, rows, input, delta, Gradient.AsSpan(layer.WeightOffset, layer.In * layer.Out), 0);
            _backend.ColumnSums(delta, rows, layer.Out, Gradient.AsSpan(layer.BiasOffset, layer.Out));
            if (l == 0)
            {
                break;
            }

            Span<float> below = _gradients[l].AsSpan(0, rows * layer.In);
            _backend.Gemm(false, true, rows, layer.In, layer.Out, delta, Parameters.AsSpan(layer.WeightOffset, layer.In * layer.Out), below, 0);
            if (dropoutApplied && Dropout > 0)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(below, _masks[l].AsSpan(0, below.Length), below);
            }

            _backend.ReluBackward(_activations[l].AsSpan(0, rows * layer.In), below);
        }
    }
}
