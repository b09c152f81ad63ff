using System.Globalization;
using Lepton.Errors;
using Lepton.Ingestion;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Lepton.Training;

/// <summary>Scores rows of raw column values with an ONNX model exported from ML.NET, in one batch per call.</summary>
public sealed class OnnxScorer : IDisposable
{
    private static readonly string[] OutputNames = ["PredictedLabel.output", "Score.output", "Probability.output"];
    private readonly InferenceSession _session;
    private readonly string[] _outputs;

    public OnnxScorer(byte[] model)
    {
        try
        {
            // One thread per run: requests already run in parallel, and per-request thread pools only contend on small batches.
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            _session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw LeptonException.BadRequest($"The file is not a loadable ONNX model: {e.Message}");
        }

        _outputs = OutputNames.Where(_session.OutputMetadata.ContainsKey).ToArray();
        if (_outputs.Length == 0 && _session.OutputMetadata.Count(o => o.Value.IsTensor && o.Value.ElementType == typeof(float)) == 1)
        {
            // A model from another tool with one float output: that output is its score.
            _scoreAlias = _session.OutputMetadata.Single(o => o.Value.IsTensor && o.Value.ElementType == typeof(float)).Key;
            _outputs = [_scoreAlias];
        }
        Inputs = _session.InputMetadata.Select(i => new ModelInput(i.Key, TypeName(i.Value.ElementType))).ToList();
    }

    private readonly string? _scoreAlias;

    public IReadOnlyList<ModelInput> Inputs { get; }

    public bool HasScoreOutput => _outputs.Contains("Score.output") || _scoreAlias is not null;

    /// <summary>Outputs by name: each row's values (one for labels and binary scores, one per class for multiclass scores).</summary>
    public Dictionary<string, float[][]> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        int n = rows.Count;
        var inputs = new List<NamedOnnxValue>();
        foreach (ModelInput input in Inputs)
        {
            int[] shape = [n, 1];
            inputs.Add(input.Type switch
            {
                "float" => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(rows.Select(r => ParseFloat(r, input.Name)).ToArray(), shape)),
                "bool" => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<bool>(rows.Select(r => ParseBool(r, input.Name)).ToArray(), shape)),
                _ => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<string>(rows.Select(r => r.GetValueOrDefault(input.Name) ?? "").ToArray(), shape)),
            });
        }

        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = _session.Run(inputs, _outputs);
        var outputs = new Dictionary<string, float[][]>();
        foreach (DisposableNamedOnnxValue result in results)
        {
            float[] flat = result.Value switch
            {
                Tensor<float> f => f.ToArray(),
                Tensor<bool> b => b.ToArray().Select(v => v ? 1f : 0f).ToArray(),
                Tensor<long> l => l.ToArray().Select(v => (float)v).ToArray(),
                Tensor<uint> u => u.ToArray().Select(v => (float)v).ToArray(),
                _ => [],
            };
            int width = n == 0 ? 0 : flat.Length / n;
            outputs[result.Name == _scoreAlias ? "Score.output" : result.Name] = Enumerable.Range(0, n).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
        }

        return outputs;
    }

    public void Dispose() => _session.Dispose();

    private static float ParseFloat(IReadOnlyDictionary<string, string?> row, string column) =>
        row.GetValueOrDefault(column) is { Length: > 0 } text && CellValues.TryParseNumber(text.Trim(), out double value) ? (float)value : float.NaN;

    private static bool ParseBool(IReadOnlyDictionary<string, string?> row, string column) =>
        row.GetValueOrDefault(column) is { } text && CellValues.TryParseBoolean(text.Trim(), out bool value) && value;

    private static string TypeName(Type type) =>
        type == typeof(float) ? "float" : type == typeof(bool) ? "bool" : type == typeof(string) ? "string" : type.Name.ToLowerInvariant();

    public static string FormatFloat(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
