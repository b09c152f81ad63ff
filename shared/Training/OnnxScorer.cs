using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using Lepton.Errors;
using Lepton.Ingestion;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Lepton.Training;

/// <summary>
/// One batch of input columns in the model's input order: a <c>float[]</c>, <c>bool[]</c> or <c>string[]</c> of
/// <see cref="Rows"/> values per input.
/// </summary>
/// <remarks>
/// Columns are found by the input's position, not its name: a predict request fills and reads every input once, and
/// looking thirty names up twice (and building three dictionaries) per request was a measurable share of a one-row call.
/// </remarks>
public sealed class ScoringBatch
{
    private readonly Array[] _columns;

    private ScoringBatch(IReadOnlyList<ModelInput> inputs, int rows)
    {
        Inputs = inputs;
        Rows = rows;
        _columns = new Array[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            _columns[i] = inputs[i].Type switch
            {
                "float" => new float[rows],
                "bool" => new bool[rows],
                _ => new string[rows],
            };
        }
    }

    /// <summary>Empty columns for a model's inputs: numbers, booleans, and every other input as text.</summary>
    public static ScoringBatch For(IReadOnlyList<ModelInput> inputs, int rows) => new(inputs, rows);

    public int Rows { get; }

    public IReadOnlyList<ModelInput> Inputs { get; }

    /// <summary>The column of the input at <paramref name="input"/> (its position in <see cref="Inputs"/>), of a numeric input.</summary>
    public float[] Floats(int input) => (float[])_columns[input];

    public bool[] Bools(int input) => (bool[])_columns[input];

    public string[] Strings(int input) => (string[])_columns[input];

    /// <summary>A column by its input's name (off the hot path: tests, tools).</summary>
    public T[] Column<T>(string name)
    {
        for (int i = 0; i < Inputs.Count; i++)
        {
            if (Inputs[i].Name == name)
            {
                return (T[])_columns[i];
            }
        }

        throw new KeyNotFoundException($"The model has no input '{name}'.");
    }

    /// <summary>One text cell into its input's column (see <see cref="CellTarget.Set"/>).</summary>
    public void SetCell(int input, int row, ReadOnlySpan<char> text) => Target(input).Set(row, text);

    /// <summary>Where one input's cells go: looked up once, then set row after row (batch scoring's per-cell path).</summary>
    public CellTarget Target(int input) => _columns[input] switch
    {
        float[] floats => new CellTarget(floats, null, null),
        bool[] bools => new CellTarget(null, bools, null),
        var strings => new CellTarget(null, null, (string[])strings),
    };
}

/// <summary>One input's column of a <see cref="ScoringBatch"/>: exactly one of the arrays is set.</summary>
public readonly struct CellTarget(float[]? floats, bool[]? bools, string[]? strings)
{
    /// <summary>
    /// The one rule for a text cell as a model input: a number (blank or unparsable: NaN), a boolean (anything else:
    /// false), or the text as it came.
    /// </summary>
    public void Set(int row, ReadOnlySpan<char> text)
    {
        if (floats is not null)
        {
            ReadOnlySpan<char> trimmed = text.Trim();
            floats[row] = !trimmed.IsEmpty && CellValues.TryParseNumber(trimmed, out double value) ? (float)value : float.NaN;
        }
        else if (bools is not null)
        {
            bools[row] = CellValues.TryParseBoolean(text.Trim(), out bool flag) && flag;
        }
        else
        {
            strings![row] = text.ToString();
        }
    }
}

/// <summary>Scores rows of raw column values with an ONNX model exported from ML.NET, in one batch per call.</summary>
public sealed class OnnxScorer : IDisposable
{
    private static readonly string[] OutputNames = [Prediction.OnnxOutputs.PredictedLabel, Prediction.OnnxOutputs.Score, Prediction.OnnxOutputs.Probability];
    private readonly InferenceSession _session;
    private readonly string[] _outputs;
    private readonly string[] _inputNames;
    // A queue, not a ConcurrentBag: a request's continuation rarely runs on the thread that returned the tensors, and
    // the bag then steals under a lock (4 % of the predict route's CPU, spinning, in a profile under load).
    private readonly ConcurrentQueue<RowInputs> _rowInputs = new();

    public OnnxScorer(byte[] model)
    {
        try
        {
            // One thread per run: requests already run in parallel, and per-request thread pools only contend on small batches.
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            _session = new InferenceSession(WithOnlyOutputsRead(model), options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidProtocolBufferException)
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
        _inputNames = Inputs.Select(i => i.Name).ToArray();
    }

    private readonly string? _scoreAlias;

    public IReadOnlyList<ModelInput> Inputs { get; }

    public bool HasScoreOutput => _outputs.Contains(Prediction.OnnxOutputs.Score) || _scoreAlias is not null;

    /// <summary>Outputs by name: each row's values (one for labels and binary scores, one per class for multiclass scores).</summary>
    public Dictionary<string, float[][]> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        ScoringBatch batch = NewBatch(rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            for (int i = 0; i < Inputs.Count; i++)
            {
                batch.SetCell(i, r, rows[r].GetValueOrDefault(Inputs[i].Name));
            }
        }

        return Score(batch);
    }

    /// <summary>Columns for one batch, one array per input, to be filled by the caller.</summary>
    public ScoringBatch NewBatch(int rows) => ScoringBatch.For(Inputs, rows);

    /// <summary>Scores a batch in one ONNX Runtime run; input buffers are handed to the runtime without copying.</summary>
    public Dictionary<string, float[][]> Score(ScoringBatch batch)
    {
        if (batch.Rows == 1)
        {
            return ScoreOneRow(batch);
        }

        int n = batch.Rows;
        long[] shape = [n, 1];
        var values = new List<OrtValue>(Inputs.Count);
        try
        {
            for (int i = 0; i < Inputs.Count; i++)
            {
                values.Add(Inputs[i].Type switch
                {
                    "float" => OrtValue.CreateTensorValueFromMemory(batch.Floats(i), shape),
                    "bool" => OrtValue.CreateTensorValueFromMemory(batch.Bools(i), shape),
                    _ => StringTensor(batch.Strings(i)),
                });
            }

            using var runOptions = new RunOptions();
            return Run(runOptions, values, n);
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// One row (every predict request of a single row): numbers and booleans are copied into input tensors kept from
    /// earlier calls, since creating and disposing a native tensor per input cost more than the model's arithmetic.
    /// </summary>
    private Dictionary<string, float[][]> ScoreOneRow(ScoringBatch batch)
    {
        RowInputs row = _rowInputs.TryDequeue(out RowInputs? kept) ? kept : new RowInputs(Inputs);
        var values = new OrtValue[Inputs.Count];
        try
        {
            for (int i = 0; i < Inputs.Count; i++)
            {
                switch (Inputs[i].Type)
                {
                    case "float":
                        row.Floats[i]![0] = batch.Floats(i)[0];
                        values[i] = row.Values[i]!;
                        break;
                    case "bool":
                        row.Bools[i]![0] = batch.Bools(i)[0];
                        values[i] = row.Values[i]!;
                        break;
                    default:
                        values[i] = StringTensor(batch.Strings(i));
                        break;
                }
            }

            return Run(row.Options, values, 1);
        }
        finally
        {
            for (int i = 0; i < Inputs.Count; i++)
            {
                if (row.Values[i] is null)
                {
                    values[i]?.Dispose();
                }
            }

            _rowInputs.Enqueue(row);
        }
    }

    private static OrtValue StringTensor(string[] column) => OrtValue.CreateFromStringTensor(new DenseTensor<string>(column, [column.Length, 1]));

    private Dictionary<string, float[][]> Run(RunOptions runOptions, IReadOnlyCollection<OrtValue> values, int n)
    {
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, _inputNames, values, _outputs);
        var outputs = new Dictionary<string, float[][]>();
        int k = 0;
        foreach (OrtValue result in results)
        {
            string name = _outputs[k++];
            float[] flat = result.GetTensorTypeAndShape().ElementDataType switch
            {
                TensorElementType.Float => result.GetTensorDataAsSpan<float>().ToArray(),
                TensorElementType.Bool => Array.ConvertAll(result.GetTensorDataAsSpan<bool>().ToArray(), v => v ? 1f : 0f),
                TensorElementType.Int64 => Array.ConvertAll(result.GetTensorDataAsSpan<long>().ToArray(), v => (float)v),
                TensorElementType.UInt32 => Array.ConvertAll(result.GetTensorDataAsSpan<uint>().ToArray(), v => (float)v),
                _ => [],
            };
            int width = n == 0 ? 0 : flat.Length / n;
            var rows = new float[n][];
            for (int i = 0; i < n; i++)
            {
                rows[i] = flat.AsSpan(i * width, width).ToArray();
            }

            outputs[name == _scoreAlias ? Prediction.OnnxOutputs.Score : name] = rows;
        }

        return outputs;
    }

    public void Dispose()
    {
        while (_rowInputs.TryDequeue(out RowInputs? row))
        {
            row.Dispose();
        }

        _session.Dispose();
    }

    /// <summary>One row's numeric and boolean input tensors over arrays of one element, refilled for each call.</summary>
    private sealed class RowInputs : IDisposable
    {
        public RowInputs(IReadOnlyList<ModelInput> inputs)
        {
            Floats = new float[]?[inputs.Count];
            Bools = new bool[]?[inputs.Count];
            Values = new OrtValue?[inputs.Count];
            long[] shape = [1, 1];
            for (int i = 0; i < inputs.Count; i++)
            {
                switch (inputs[i].Type)
                {
                    case "float":
                        Floats[i] = new float[1];
                        Values[i] = OrtValue.CreateTensorValueFromMemory(Floats[i]!, shape);
                        break;
                    case "bool":
                        Bools[i] = new bool[1];
                        Values[i] = OrtValue.CreateTensorValueFromMemory(Bools[i]!, shape);
                        break;
                }
            }
        }

        public float[]?[] Floats { get; }

        public bool[]?[] Bools { get; }

        /// <summary>The kept tensors, one per numeric or boolean input (null for text inputs, made per call).</summary>
        public OrtValue?[] Values { get; }

        public RunOptions Options { get; } = new();

        public void Dispose()
        {
            foreach (OrtValue? value in Values)
            {
                value?.Dispose();
            }

            Options.Dispose();
        }
    }

    /// <summary>
    /// The model without the graph outputs Lepton never reads. ONNX Runtime runs every node that feeds a declared output,
    /// whichever outputs a call asks for, and ML.NET's exports declare every intermediate column as one, behind an
    /// Identity node per input: a one-row call of a 30-feature model spent more than half its time there. Training
    /// applies this to what it exports; loading applies it to models registered before and to uploaded ones. Models that
    /// declare none of Lepton's outputs are left as they are.
    /// </summary>
    internal static byte[] WithOnlyOutputsRead(byte[] model)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        if (proto.Graph is null)
        {
            return model;
        }

        ValueInfoProto[] read = proto.Graph.Output.Where(o => OutputNames.Contains(o.Name)).ToArray();
        if (read.Length == 0 || read.Length == proto.Graph.Output.Count)
        {
            return model;
        }

        proto.Graph.Output.Clear();
        proto.Graph.Output.AddRange(read);
        return proto.ToByteArray();
    }

    private static string TypeName(Type type) =>
        type == typeof(float) ? "float" : type == typeof(bool) ? "bool" : type == typeof(string) ? "string" : type.Name.ToLowerInvariant();

    public static string FormatFloat(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
