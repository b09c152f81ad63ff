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

    /// <summary>One row of zeros, false and empty text: a probe whether a model scores anything at all.</summary>
    public static ScoringBatch Neutral(IReadOnlyList<ModelInput> inputs)
    {
        var row = new ScoringBatch(inputs, 1);
        foreach (string[] text in row._columns.OfType<string[]>())
        {
            text[0] = "";
        }

        return row;
    }

    /// <summary>One row of the batch as a batch of its own (off the hot path: finding the rows a model cannot score).</summary>
    public ScoringBatch Row(int row)
    {
        var one = new ScoringBatch(Inputs, 1);
        for (int i = 0; i < _columns.Length; i++)
        {
            Array.Copy(_columns[i], row, one._columns[i], 0, 1);
        }

        return one;
    }

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
    /// The one rule for a text cell as a model input: a number (blank or unparsable: NaN; with a decimal comma where the
    /// file's separator allows one, <see cref="CellValues.AllowsDecimalComma"/>), a boolean (anything else: false), or
    /// the text as it came.
    /// </summary>
    public void Set(int row, ReadOnlySpan<char> text, bool decimalComma = false)
    {
        if (floats is not null)
        {
            ReadOnlySpan<char> trimmed = text.Trim();
            floats[row] = !trimmed.IsEmpty && CellValues.TryParseNumber(trimmed, decimalComma, out double value) ? (float)value : float.NaN;
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
    // What the session is fed: the numeric columns packed into one [n, k] tensor when the graph allows it (_packed, the
    // input index of each of its k columns), then every other input as its own [n, 1] tensor (_separate).
    private readonly string[] _feedNames;
    private readonly int[] _packed;
    private readonly int[] _separate;
    // A queue, not a ConcurrentBag: a request's continuation rarely runs on the thread that returned the tensors, and
    // the bag then steals under a lock (4 % of the predict route's CPU, spinning, in a profile under load).
    private readonly ConcurrentQueue<RowInputs> _rowInputs = new();

    public OnnxScorer(byte[] model)
    {
        PackedColumns? packed;
        try
        {
            // One thread per run: requests already run in parallel, and per-request thread pools only contend on small batches.
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            byte[] declared = WithOnlyOutputsRead(model);
            (byte[] served, packed) = WithNumericInputsPacked(declared);
            try
            {
                _session = new InferenceSession(served, options);
            }
            catch (OnnxRuntimeException) when (packed is not null)
            {
                // The rewrite is an optimization: a graph it does not suit is served as it came.
                (_session, packed) = (new InferenceSession(declared, options), null);
            }

        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidProtocolBufferException)
        {
            throw LeptonException.BadRequest($"The file is not a loadable ONNX model: {e.Message}");
        }

        _outputs = OutputNames.Where(_session.OutputMetadata.ContainsKey).ToArray();
        string? scoreAlias = null;
        if (_outputs.Length == 0 && _session.OutputMetadata.Count(o => o.Value.IsTensor && o.Value.ElementType == typeof(float)) == 1)
        {
            // A model from another tool with one float output: that output is its score.
            scoreAlias = _session.OutputMetadata.Single(o => o.Value.IsTensor && o.Value.ElementType == typeof(float)).Key;
            _outputs = [scoreAlias];
        }
        // The inputs callers fill are the model's own, in its order, whether or not the session takes some of them packed.
        string[] packedColumns = packed?.Columns ?? [];
        Inputs = packed is null
            ? _session.InputMetadata.Select(i => new ModelInput(i.Key, TypeName(i.Value.ElementType))).ToList()
            : packed.OriginalInputs.Select(name => new ModelInput(name, packedColumns.Contains(name) ? "float" : TypeName(_session.InputMetadata[name].ElementType))).ToList();
        List<string> names = Inputs.Select(i => i.Name).ToList();
        _packed = packedColumns.Select(c => names.IndexOf(c)).ToArray();
        _separate = Enumerable.Range(0, Inputs.Count).Where(i => !packedColumns.Contains(Inputs[i].Name)).ToArray();
        _feedNames = (packed is null ? [] : new[] { packed.Name }).Concat(_separate.Select(i => Inputs[i].Name)).ToArray();
        _outputKeys = _outputs.Select(o => o == scoreAlias ? Prediction.OnnxOutputs.Score : o).ToArray();
        _keptOutputs = Inputs.All(i => i.Type is "float" or "bool") ? KeptOutputsOf(_session, _outputs, _outputKeys) : null;
    }

    // Each read output's name in the results (another tool's single float output is reported as the score).
    private readonly string[] _outputKeys;

    // One-row calls run through an I/O binding of kept tensors when every input is numeric or boolean and every output a
    // numeric tensor of fixed width: no names looked up, no output tensors allocated and wrapped per call. Null otherwise.
    private readonly KeptOutput[]? _keptOutputs;
    // Set if the runtime refuses the kept output shapes (a graph whose declared shapes are not the ones it produces).
    private volatile bool _bindingRefused;
    // Once a bound call has worked, a failure is the row's own (its values), never a reason to give up the binding.
    private volatile bool _bindingWorked;

    private sealed record KeptOutput(string Name, string Key, TensorElementType Type, long[] Shape);

    private static KeptOutput[]? KeptOutputsOf(InferenceSession session, string[] outputs, string[] keys)
    {
        var kept = new KeptOutput[outputs.Length];
        for (int o = 0; o < outputs.Length; o++)
        {
            NodeMetadata output = session.OutputMetadata[outputs[o]];
            int[] dimensions = output.IsTensor ? output.Dimensions : [];
            if (output.ElementDataType is not (TensorElementType.Float or TensorElementType.Bool or TensorElementType.Int64 or TensorElementType.UInt32)
                || dimensions.Length == 0 || dimensions[0] > 1 || dimensions.Skip(1).Any(d => d < 1))
            {
                return null;
            }

            kept[o] = new KeptOutput(outputs[o], keys[o], output.ElementDataType, dimensions.Select((d, j) => j == 0 ? 1L : d).ToArray());
        }

        return kept;
    }

    /// <summary>Whether one-row calls run through the kept I/O binding (for the tests: the other path gives the same results).</summary>
    internal bool BindsOneRowCalls => _keptOutputs is not null && !_bindingRefused;

    /// <summary>How many numeric inputs the session takes in one packed tensor (0: each input is fed on its own).</summary>
    public int PackedInputs => _packed.Length;

    public IReadOnlyList<ModelInput> Inputs { get; }

    public bool HasScoreOutput => _outputKeys.Contains(Prediction.OnnxOutputs.Score);

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
        var values = new List<OrtValue>(_feedNames.Length);
        // Pooled: for a batch chunk it is megabytes, a large-object allocation per call otherwise. The tensor over it is
        // disposed before the array goes back.
        float[]? packed = null;
        try
        {
            if (_packed.Length > 0)
            {
                // Row-major [n, k] from the batch's columns.
                int k = _packed.Length;
                packed = System.Buffers.ArrayPool<float>.Shared.Rent(n * k);
                for (int j = 0; j < k; j++)
                {
                    float[] column = batch.Floats(_packed[j]);
                    for (int r = 0; r < n; r++)
                    {
                        packed[r * k + j] = column[r];
                    }
                }

                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, packed.AsMemory(0, n * k), [n, k]));
            }

            foreach (int i in _separate)
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

            if (packed is not null)
            {
                System.Buffers.ArrayPool<float>.Shared.Return(packed);
            }
        }
    }

    /// <summary>
    /// One row (every predict request of a single row): numbers and booleans are copied into input tensors kept from
    /// earlier calls, since creating and disposing a native tensor per input cost more than the model's arithmetic.
    /// </summary>
    private Dictionary<string, float[][]> ScoreOneRow(ScoringBatch batch)
    {
        RowInputs row = _rowInputs.TryDequeue(out RowInputs? kept) ? kept : new RowInputs(Inputs, _packed.Length, _separate, _bindingRefused ? null : _keptOutputs, _session, _feedNames);
        OrtValue[]? values = null;
        try
        {
            if (row.Packed is { } packed)
            {
                for (int j = 0; j < packed.Length; j++)
                {
                    packed[j] = batch.Floats(_packed[j])[0];
                }
            }

            for (int f = 0; f < _separate.Length; f++)
            {
                int i = _separate[f];
                switch (Inputs[i].Type)
                {
                    case "float":
                        row.Floats[f]![0] = batch.Floats(i)[0];
                        break;
                    case "bool":
                        row.Bools[f]![0] = batch.Bools(i)[0];
                        break;
                }
            }

            if (row.Binding is { } binding && !_bindingRefused)
            {
                try
                {
                    _session.RunWithBinding(row.Options, binding);
                    if (!_bindingWorked)
                    {
                        // Written once: a store on every call would bounce the cache line between the cores.
                        _bindingWorked = true;
                    }

                    return row.BoundResults();
                }
                catch (OnnxRuntimeException) when (!_bindingWorked)
                {
                    // Refused before it ever worked: the binding may be what the runtime objects to. If the same row runs
                    // without it, it is; if not, the row is (a NaN the graph cannot take), and the binding stays in use.
                    values = row.Feeds(batch, _separate);
                    Dictionary<string, float[][]> fed = Run(row.Options, values, 1);
                    _bindingRefused = true;
                    return fed;
                }
            }

            values = row.Feeds(batch, _separate);
            return Run(row.Options, values, 1);
        }
        finally
        {
            // Text tensors are made per call; the kept ones go back with the row.
            if (values is not null)
            {
                row.DisposeMadeFeeds(values);
            }

            _rowInputs.Enqueue(row);
        }
    }

    private static OrtValue StringTensor(string[] column) => OrtValue.CreateFromStringTensor(new DenseTensor<string>(column, [column.Length, 1]));

    private Dictionary<string, float[][]> Run(RunOptions runOptions, IReadOnlyCollection<OrtValue> values, int n)
    {
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, _feedNames, values, _outputs);
        var outputs = new Dictionary<string, float[][]>();
        int k = 0;
        foreach (OrtValue result in results)
        {
            string key = _outputKeys[k++];
            float[] flat = Floats(result);
            int width = n == 0 ? 0 : flat.Length / n;
            var rows = new float[n][];
            for (int i = 0; i < n; i++)
            {
                rows[i] = flat.AsSpan(i * width, width).ToArray();
            }

            outputs[key] = rows;
        }

        return outputs;
    }

    /// <summary>An output tensor's values as floats.</summary>
    private static float[] Floats(OrtValue result) => result.GetTensorTypeAndShape().ElementDataType switch
    {
        TensorElementType.Float => AsFloats(result.GetTensorDataAsSpan<float>()),
        TensorElementType.Bool => AsFloats(result.GetTensorDataAsSpan<bool>()),
        TensorElementType.Int64 => AsFloats(result.GetTensorDataAsSpan<long>()),
        TensorElementType.UInt32 => AsFloats(result.GetTensorDataAsSpan<uint>()),
        _ => [],
    };

    // The one rule for output values, whichever path read them: labels as their numbers, booleans as 0 and 1.
    private static float[] AsFloats(ReadOnlySpan<float> values) => values.ToArray();

    private static float[] AsFloats(ReadOnlySpan<bool> values) => AsFloats(values, static v => v ? 1f : 0f);

    private static float[] AsFloats(ReadOnlySpan<long> values) => AsFloats(values, static v => v);

    private static float[] AsFloats(ReadOnlySpan<uint> values) => AsFloats(values, static v => v);

    private static float[] AsFloats<T>(ReadOnlySpan<T> values, Func<T, float> convert)
    {
        var floats = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            floats[i] = convert(values[i]);
        }

        return floats;
    }

    public void Dispose()
    {
        while (_rowInputs.TryDequeue(out RowInputs? row))
        {
            row.Dispose();
        }

        _session.Dispose();
    }

    /// <summary>
    /// One row's input tensors over arrays refilled for each call: the packed numeric columns (1 × k), if any, and each
    /// other numeric or boolean input (1 × 1), in the order of the scorer's separate feeds.
    /// </summary>
    private sealed class RowInputs : IDisposable
    {
        public RowInputs(IReadOnlyList<ModelInput> inputs, int packed, int[] separate, KeptOutput[]? outputs, InferenceSession session, string[] feedNames)
        {
            if (packed > 0)
            {
                Packed = new float[packed];
                PackedValue = OrtValue.CreateTensorValueFromMemory(Packed, [1, packed]);
            }

            Floats = new float[]?[separate.Length];
            Bools = new bool[]?[separate.Length];
            Values = new OrtValue?[separate.Length];
            long[] shape = [1, 1];
            for (int f = 0; f < separate.Length; f++)
            {
                switch (inputs[separate[f]].Type)
                {
                    case "float":
                        Floats[f] = new float[1];
                        Values[f] = OrtValue.CreateTensorValueFromMemory(Floats[f]!, shape);
                        break;
                    case "bool":
                        Bools[f] = new bool[1];
                        Values[f] = OrtValue.CreateTensorValueFromMemory(Bools[f]!, shape);
                        break;
                }
            }

            if (outputs is not null)
            {
                Binding = session.CreateIoBinding();
                OrtValue[] feeds = [.. PackedValue is null ? [] : new[] { PackedValue }, .. Values.Select(v => v!)];
                for (int i = 0; i < feedNames.Length; i++)
                {
                    Binding.BindInput(feedNames[i], feeds[i]);
                }

                _outputs = outputs;
                _outputArrays = new Array[outputs.Length];
                _outputValues = new OrtValue[outputs.Length];
                for (int o = 0; o < outputs.Length; o++)
                {
                    long[] dimensions = outputs[o].Shape;
                    int count = checked((int)dimensions.Aggregate(1L, (a, b) => a * b));
                    (_outputArrays[o], _outputValues[o]) = outputs[o].Type switch
                    {
                        TensorElementType.Float => Kept(new float[count], dimensions),
                        TensorElementType.Bool => Kept(new bool[count], dimensions),
                        TensorElementType.Int64 => Kept(new long[count], dimensions),
                        _ => Kept(new uint[count], dimensions),
                    };
                    Binding.BindOutput(outputs[o].Name, _outputValues[o]);
                }
            }
        }

        private static (Array, OrtValue) Kept<T>(T[] array, long[] shape) where T : unmanaged =>
            (array, OrtValue.CreateTensorValueFromMemory(array, shape));

        private readonly KeptOutput[] _outputs = [];
        // The managed arrays under the bound output tensors: the runtime writes into them, so results are read from
        // them directly, without asking the runtime for each tensor's type, shape and data.
        private readonly Array[] _outputArrays = [];
        private readonly OrtValue[] _outputValues = [];

        /// <summary>The kept inputs and outputs bound to the session (null when some input or output cannot be kept).</summary>
        public OrtIoBinding? Binding { get; }

        /// <summary>The bound outputs of the last run, copied out: the tensors are refilled by the next call.</summary>
        public Dictionary<string, float[][]> BoundResults()
        {
            var results = new Dictionary<string, float[][]>(_outputs.Length);
            for (int o = 0; o < _outputs.Length; o++)
            {
                results[_outputs[o].Key] = [_outputArrays[o] switch
                {
                    float[] floats => AsFloats(floats),
                    bool[] bools => AsFloats(bools),
                    long[] longs => AsFloats(longs),
                    uint[] units => AsFloats(units),
                    _ => [],
                }];
            }

            return results;
        }

        /// <summary>The feeds for a run by name: the kept tensors, and a text tensor made for each text input.</summary>
        public OrtValue[] Feeds(ScoringBatch batch, int[] separate)
        {
            int first = PackedValue is null ? 0 : 1;
            var feeds = new OrtValue[first + separate.Length];
            if (PackedValue is not null)
            {
                feeds[0] = PackedValue;
            }

            for (int f = 0; f < separate.Length; f++)
            {
                feeds[first + f] = Values[f] ?? StringTensor(batch.Strings(separate[f]));
            }

            return feeds;
        }

        /// <summary>Disposes the feeds <see cref="Feeds"/> made for one call; the kept ones stay.</summary>
        public void DisposeMadeFeeds(OrtValue[] feeds)
        {
            int first = PackedValue is null ? 0 : 1;
            for (int f = 0; f < Values.Length; f++)
            {
                if (Values[f] is null)
                {
                    feeds[first + f]?.Dispose();
                }
            }
        }

        public float[]? Packed { get; }

        public OrtValue? PackedValue { get; }

        public float[]?[] Floats { get; }

        public bool[]?[] Bools { get; }

        /// <summary>The kept tensors of the separate feeds (null for text inputs, made per call).</summary>
        public OrtValue?[] Values { get; }

        public RunOptions Options { get; } = new();

        public void Dispose()
        {
            PackedValue?.Dispose();
            foreach (OrtValue? value in Values)
            {
                value?.Dispose();
            }

            Binding?.Dispose();
            foreach (OrtValue value in _outputValues)
            {
                value.Dispose();
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

    /// <summary>The numeric columns a session takes in one tensor: its name, and the columns in their packed order.</summary>
    internal sealed record PackedColumns(string Name, string[] Columns, IReadOnlyList<string> OriginalInputs);

    /// <summary>
    /// The model with its numeric columns fed as one [n, k] tensor, when its first step is to put them side by side:
    /// a <c>FeatureVectorizer</c> or <c>Concat</c> whose inputs are all float [n, 1] graph inputs that nothing else reads
    /// (ML.NET's exports start so). That node is removed and its output becomes the graph input. ONNX Runtime checks,
    /// binds and copies each input of a call; for a one-row call of a 30-feature model that was most of its time. The
    /// stored artifact is unchanged: this happens when a session is loaded, and the parity check at training scores
    /// through it. Any other graph is left as it is.
    /// </summary>
    internal static (byte[] Model, PackedColumns? Packed) WithNumericInputsPacked(byte[] model)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        GraphProto? graph = proto.Graph;
        if (graph is null || graph.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)))
        {
            // Subgraphs (If, Loop, Scan) read outer values without naming them as inputs: what they need is not
            // visible here, so such a graph is served as it is.
            return (model, null);
        }

        // Only the nodes some declared output needs (graphs are stored in topological order): the Identity nodes ML.NET
        // adds per input feed nothing once the outputs are trimmed, but still read the inputs.
        var needed = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var live = new List<NodeProto>();
        foreach (NodeProto node in graph.Node.Reverse())
        {
            if (node.Output.Any(needed.Contains))
            {
                live.Add(node);
                needed.UnionWith(node.Input);
            }
        }

        live.Reverse();
        HashSet<string> columns = graph.Input.Where(IsFloatColumn).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (NodeProto node in live)
        {
            if (!PutsColumnsSideBySide(node) || node.Input.Count < 2 || node.Output.Count != 1
                || !node.Input.All(columns.Contains) || node.Input.Distinct().Count() != node.Input.Count)
            {
                continue;
            }

            var readElsewhere = live.Where(n => n != node).SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
            if (node.Input.Any(readElsewhere.Contains))
            {
                continue;
            }

            string[] packed = [.. node.Input];
            // The inputs a caller feeds, as ONNX Runtime lists them (constants that older models list as inputs are not).
            var constants = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            string[] original = [.. graph.Input.Select(i => i.Name).Where(n => !constants.Contains(n))];
            string name = node.Output[0];
            live.Remove(node);
            graph.Node.Clear();
            graph.Node.AddRange(live);
            // Constants only the dropped nodes read would otherwise draw a warning from ONNX Runtime at every load.
            var read = live.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
            foreach (TensorProto unused in graph.Initializer.Where(t => !read.Contains(t.Name)).ToList())
            {
                graph.Initializer.Remove(unused);
                // Older models also list their constants as graph inputs; one left without its value would become required.
                if (graph.Input.FirstOrDefault(i => i.Name == unused.Name) is { } listed)
                {
                    graph.Input.Remove(listed);
                }
            }

            foreach (ValueInfoProto input in graph.Input.Where(i => packed.Contains(i.Name)).ToList())
            {
                graph.Input.Remove(input);
            }

            foreach (ValueInfoProto info in graph.ValueInfo.Where(v => v.Name == name).ToList())
            {
                graph.ValueInfo.Remove(info);
            }

            graph.Input.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto
                {
                    TensorType = new TypeProto.Types.Tensor
                    {
                        ElemType = (int)TensorProto.Types.DataType.Float,
                        Shape = new TensorShapeProto
                        {
                            Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = packed.Length } },
                        },
                    },
                },
            });
            return (proto.ToByteArray(), new PackedColumns(name, packed, original));
        }

        return (model, null);
    }

    private static bool IsFloatColumn(ValueInfoProto input) =>
        input.Type?.TensorType is { ElemType: (int)TensorProto.Types.DataType.Float, Shape.Dim: { Count: 2 } dims } && dims[1].DimValue == 1;

    private static bool PutsColumnsSideBySide(NodeProto node) => node.OpType switch
    {
        "FeatureVectorizer" => node.Domain == "ai.onnx.ml" && node.Attribute.Where(a => a.Name == "inputdimensions").SelectMany(a => a.Ints).All(d => d == 1),
        "Concat" => node.Domain is "" or "ai.onnx" && node.Attribute.FirstOrDefault(a => a.Name == "axis") is { I: 1 or -1 },
        _ => false,
    };

    private static string TypeName(Type type) =>
        type == typeof(float) ? "float" : type == typeof(bool) ? "bool" : type == typeof(string) ? "string" : type.Name.ToLowerInvariant();

    public static string FormatFloat(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
