using Google.Protobuf;
using Onnx;

namespace Lepton.Learning;

/// <summary>
/// Exports a <see cref="ParametricModel"/> — featurization and network — as one ONNX graph whose inputs are exactly
/// the curated feature columns ([N, 1] float, bool or string tensors, as the other candidates' exports) and whose
/// outputs are what the prediction API reads: <c>Score.output</c> (the value, the logit, or the class probabilities)
/// and, for binary models, <c>Probability.output</c> and <c>PredictedLabel.output</c>. Built on OnnxSharp's ONNX protobuf types.
/// </summary>
public static class NetworkOnnx
{
    private const int Opset = 13;

    public static byte[] Export(ParametricModel model)
    {
        var graph = new GraphProto { Name = "lepton-network" };
        Featurization f = model.Featurization;
        var parts = new List<string>();

        var numeric = new List<string>();
        foreach (NumericFeature n in f.Numeric)
        {
            graph.Input.Add(Input(n.Name, n.IsBoolean ? TensorProto.Types.DataType.Bool : TensorProto.Types.DataType.Float));
            if (n.IsBoolean)
            {
                string cast = $"cast__{numeric.Count}";
                graph.Node.Add(Node("Cast", [n.Name], [cast], Int("to", (long)TensorProto.Types.DataType.Float)));
                numeric.Add(cast);
            }
            else
            {
                numeric.Add(n.Name);
            }
        }

        if (numeric.Count > 0)
        {
            // Missing values (NaN) take the training mean, then (x − center) / scale, for all numeric columns at once.
            graph.Node.Add(numeric.Count == 1 ? Node("Identity", numeric, ["num__raw"]) : Node("Concat", numeric, ["num__raw"], Int("axis", 1)));
            graph.Initializer.Add(Floats("num__fill", [f.Numeric.Count], f.Numeric.Select(n => (float)n.Fill)));
            graph.Initializer.Add(Floats("num__center", [f.Numeric.Count], f.Numeric.Select(n => (float)n.Center)));
            graph.Initializer.Add(Floats("num__scale", [f.Numeric.Count], f.Numeric.Select(n => (float)n.Scale)));
            graph.Node.Add(Node("IsNaN", ["num__raw"], ["num__missing"]));
            graph.Node.Add(Node("Where", ["num__missing", "num__fill", "num__raw"], ["num__filled"]));
            graph.Node.Add(Node("Sub", ["num__filled", "num__center"], ["num__centered"]));
            graph.Node.Add(Node("Div", ["num__centered", "num__scale"], ["num__standardized"]));
            parts.Add("num__standardized");
        }

        for (int c = 0; c < f.Categorical.Count; c++)
        {
            CategoricalFeature feature = f.Categorical[c];
            graph.Input.Add(Input(feature.Name, TensorProto.Types.DataType.String));
            if (feature.Categories.Count == 0)
            {
                continue;
            }

            // One-hot over the training categories; an unseen value (zeros = 1) is all zeros, as in training.
            var encoder = Node("OneHotEncoder", [feature.Name], [$"cat__{c}__3d"],
                new AttributeProto { Name = "cats_strings", Type = AttributeProto.Types.AttributeType.Strings, Strings = { feature.Categories.Select(ByteString.CopyFromUtf8) } },
                Int("zeros", 1));
            encoder.Domain = "ai.onnx.ml";
            graph.Node.Add(encoder);
            graph.Initializer.Add(Longs($"cat__{c}__shape", [-1, feature.Categories.Count]));
            graph.Node.Add(Node("Reshape", [$"cat__{c}__3d", $"cat__{c}__shape"], [$"cat__{c}__onehot"]));
            graph.Node.Add(Node("Cast", [$"cat__{c}__onehot"], [$"cat__{c}"], Int("to", (long)TensorProto.Types.DataType.Float)));
            parts.Add($"cat__{c}");
        }

        graph.Node.Add(parts.Count == 1 ? Node("Identity", parts, ["features"]) : Node("Concat", parts, ["features"], Int("axis", 1)));
        string current = "features";
        IReadOnlyList<DenseLayout> layout = model.Shape.Layout;
        for (int l = 0; l < layout.Count; l++)
        {
            DenseLayout layer = layout[l];
            graph.Initializer.Add(Floats($"layer{l}__weight", [layer.In, layer.Out], model.Parameters.Skip(layer.WeightOffset).Take(layer.In * layer.Out)));
            graph.Initializer.Add(Floats($"layer{l}__bias", [layer.Out], model.Parameters.Skip(layer.BiasOffset).Take(layer.Out)));
            graph.Node.Add(Node("MatMul", [current, $"layer{l}__weight"], [$"layer{l}__product"]));
            graph.Node.Add(Node("Add", [$"layer{l}__product", $"layer{l}__bias"], [$"layer{l}__linear"]));
            current = $"layer{l}__linear";
            if (l < layout.Count - 1)
            {
                graph.Node.Add(Node("Relu", [current], [$"layer{l}__relu"]));
                current = $"layer{l}__relu";
            }
        }

        switch (model.Shape.Head)
        {
            case NetworkHead.Binary:
                graph.Node.Add(Node("Identity", [current], [Prediction.OnnxOutputs.Score]));
                graph.Node.Add(Node("Sigmoid", [current], [Prediction.OnnxOutputs.Probability]));
                // As ML.NET's binary exports: the predicted class, positive when P(positive) > 0.5.
                graph.Initializer.Add(Floats("threshold", [1], [0.5f]));
                graph.Node.Add(Node("Greater", [Prediction.OnnxOutputs.Probability, "threshold"], [Prediction.OnnxOutputs.PredictedLabel]));
                graph.Output.Add(Output(Prediction.OnnxOutputs.PredictedLabel, 1, TensorProto.Types.DataType.Bool));
                graph.Output.Add(Output(Prediction.OnnxOutputs.Score, 1));
                graph.Output.Add(Output(Prediction.OnnxOutputs.Probability, 1));
                break;
            case NetworkHead.Multiclass:
                graph.Node.Add(Node("Softmax", [current], [Prediction.OnnxOutputs.Score], Int("axis", 1)));
                graph.Output.Add(Output(Prediction.OnnxOutputs.Score, model.Shape.Outputs));
                break;
            default:
                graph.Initializer.Add(Floats("target__scale", [1], [(float)model.TargetScale]));
                graph.Initializer.Add(Floats("target__center", [1], [(float)model.TargetCenter]));
                graph.Node.Add(Node("Mul", [current, "target__scale"], ["target__scaled"]));
                graph.Node.Add(Node("Add", ["target__scaled", "target__center"], [Prediction.OnnxOutputs.Score]));
                graph.Output.Add(Output(Prediction.OnnxOutputs.Score, 1));
                break;
        }

        var onnx = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Lepton",
            ProducerVersion = "1",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset }, new OperatorSetIdProto { Domain = "ai.onnx.ml", Version = 1 } },
        };
        return onnx.ToByteArray();
    }

    private static NodeProto Node(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}__{string.Join('_', outputs)}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Floats(string name, long[] dims, IEnumerable<float> values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static TensorProto Longs(string name, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    private static ValueInfoProto Input(string name, TensorProto.Types.DataType type) => Value(name, type, 1);

    private static ValueInfoProto Output(string name, int width, TensorProto.Types.DataType type = TensorProto.Types.DataType.Float) => Value(name, type, width);

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
