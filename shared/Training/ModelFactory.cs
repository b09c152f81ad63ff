using Lepton.Errors;
using Lepton.Ingestion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms;

namespace Lepton.Training;

/// <summary>
/// Builds ML.NET pipelines from a curated schema. The featurization (missing-value replacement, booleans as numbers,
/// one-hot categories, numeric features scaled to [0, 1] or standardized) is part of the model, so the model — and its ONNX export — takes the raw
/// columns as the curated schema names them. Text and timestamp columns are not used as features.
/// </summary>
public sealed class ModelFactory(DatasetSchema schema, string label, string task, int seed)
{
    public const string LabelColumn = "Label";
    private const string FeaturesColumn = "Features";

    private readonly MLContext _ml = new(seed);

    public MLContext Context => _ml;

    /// <summary>
    /// Each class's weight by its label text (<see cref="ClassWeighting"/>), or null: every row counts once. With weights, the
    /// loaded rows carry their label's text too, label preparation maps it to a weight column, and every trainer reads it.
    /// </summary>
    public IReadOnlyDictionary<string, float>? ClassWeights { get; init; }

    /// <summary>
    /// Whether the trainer reads the featurized rows from memory rather than from the file. Without the cache every pass of
    /// a multi-pass trainer (L-BFGS, SDCA) parsed the CSV again and ran the featurization on ML.NET's splitting and
    /// consolidating cursor threads, which spin while they wait: on two cores, five folds of SDCA at once took 7 s each
    /// instead of 0.3 s. Callers leave it off for data too large to hold (<see cref="TrainingEngine.CacheFeaturesUpToCells"/>).
    /// </summary>
    public bool CacheFeatures { get; init; }

    private const string WeightColumn = "__weight";
    private const string LabelTextColumn = "__label_text";

    /// <summary>The trainers' example-weight column: set only when the rows are weighted.</summary>
    private string? Weight => ClassWeights is null ? null : WeightColumn;

    public IReadOnlyList<ColumnSchema> Features { get; } = schema.Columns
        .Where(c => c.Name != label && c.Kind is ColumnKind.Numeric or ColumnKind.Boolean or ColumnKind.Categorical)
        .ToList();

    private ColumnSchema LabelSchema => schema.Columns.FirstOrDefault(c => c.Name == label)
        ?? throw LeptonException.BadRequest($"The label column '{label}' is not in the dataset. Columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");

    /// <summary>Loads a curated CSV: the feature columns and, unless <paramref name="featuresOnly"/>, the label.</summary>
    public IDataView Load(string path, bool featuresOnly = false)
    {
        var columns = new List<TextLoader.Column>();
        for (int i = 0; i < schema.Columns.Count; i++)
        {
            ColumnSchema column = schema.Columns[i];
            if (Features.Contains(column))
            {
                columns.Add(new TextLoader.Column(column.Name, KindOf(column.Kind), i));
            }
            else if (column.Name == label && !featuresOnly)
            {
                columns.Add(new TextLoader.Column(column.Name, LabelKind(), i));
                if (ClassWeights is not null)
                {
                    columns.Add(new TextLoader.Column(LabelTextColumn, DataKind.String, i));
                }
            }
        }

        if (Features.Count == 0)
        {
            throw LeptonException.BadRequest("The dataset has no numeric, boolean or categorical column besides the label to learn from.");
        }

        return _ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = columns.ToArray(),
            HasHeader = true,
            Separators = [','],
            AllowQuoting = true,
            ReadMultilines = false,
        }).Load(path);
    }

    /// <summary>Turns the label column into the "Label" the trainers expect; fitted separately so it never enters the exported model.</summary>
    /// <remarks>
    /// With <paramref name="keysFromClasses"/>, a multiclass model knows every class of <paramref name="classes"/> even when
    /// its training rows lack some (a coalition of members scored on everyone's evaluation rows).
    /// </remarks>
    public IEstimator<ITransformer> LabelPreparation(IReadOnlyList<string> classes, bool keysFromClasses = false)
    {
        ColumnSchema labelColumn = LabelSchema;
        IEstimator<ITransformer> labels = task switch
        {
            MlTasks.Multiclass when keysFromClasses => _ml.Transforms.Conversion.MapValueToKey(LabelColumn, label,
                keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue,
                keyData: _ml.Data.LoadFromEnumerable(classes.Select(c => new ClassValue { Value = c }))),
            MlTasks.Multiclass => _ml.Transforms.Conversion.MapValueToKey(LabelColumn, label, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue),
            MlTasks.Binary when labelColumn.Kind == ColumnKind.Boolean => _ml.Transforms.CopyColumns(LabelColumn, label),
            // Two numbers: the second in ordinal order is the positive one, as for named classes. (A type conversion
            // read every non-zero number as true, so 2/4 or -1/1 labels all became one class.)
            MlTasks.Binary when labelColumn.Kind == ColumnKind.Numeric => _ml.Transforms.Conversion.MapValue(LabelColumn,
                new[] { new KeyValuePair<float, bool>(NumericClass(classes[0]), false), new KeyValuePair<float, bool>(NumericClass(classes[1]), true) }, label),
            // Two named classes: the second in ordinal order is the positive one.
            MlTasks.Binary => _ml.Transforms.Conversion.MapValue(LabelColumn,
                new[] { new KeyValuePair<string, bool>(classes[0], false), new KeyValuePair<string, bool>(classes[1], true) }, label),
            _ => _ml.Transforms.CopyColumns(LabelColumn, label),
        };
        return ClassWeights is null ? labels : labels.Append(_ml.Transforms.Conversion.MapValue(WeightColumn, ClassWeights, LabelTextColumn));
    }

    // A numeric label's class as the loader reads it: the curated file writes each number so that it parses back exactly.
    private static float NumericClass(string value) => float.Parse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Hyper-parameter that makes a candidate scale its features to zero mean and unit variance instead of to [0, 1].</summary>
    public const string Standardize = "standardize";

    public IEstimator<ITransformer> Featurization(bool standardize = false)
    {
        var outputs = new List<string>();
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        ColumnSchema[] numeric = Features.Where(f => f.Kind == ColumnKind.Numeric).ToArray();
        if (numeric.Length > 0)
        {
            // One vector, one imputer and one scaler rather than one per column: the exported graph then has a handful of
            // nodes instead of one per feature, which is most of the cost of scoring a single row.
            pipeline = pipeline
                .Append(_ml.Transforms.Concatenate("num__raw", numeric.Select(n => n.Name).ToArray()))
                .Append(_ml.Transforms.ReplaceMissingValues("num__filled", "num__raw", MissingValueReplacingEstimator.ReplacementMode.Mean))
                .Append(ScaleNumeric("num__scaled", "num__filled", standardize));
            outputs.Add("num__scaled");
        }

        // Booleans and one-hot categories are already 0/1: left as they are, one-hot vectors stay sparse however many
        // categories a column has.
        ColumnSchema[] booleans = Features.Where(f => f.Kind == ColumnKind.Boolean).ToArray();
        if (booleans.Length > 0)
        {
            pipeline = pipeline.Append(_ml.Transforms.Conversion.ConvertType(
                booleans.Select(b => new InputOutputColumnPair("bool_" + b.Name, b.Name)).ToArray(), DataKind.Single));
            outputs.AddRange(booleans.Select(b => "bool_" + b.Name));
        }

        ColumnSchema[] categorical = Features.Where(f => f.Kind == ColumnKind.Categorical).ToArray();
        if (categorical.Length > 0)
        {
            pipeline = pipeline.Append(_ml.Transforms.Categorical.OneHotEncoding(
                categorical.Select(c => new InputOutputColumnPair("cat_" + c.Name, c.Name)).ToArray()));
            outputs.AddRange(categorical.Select(c => "cat_" + c.Name));
        }

        return pipeline.Append(_ml.Transforms.Concatenate(FeaturesColumn, outputs.ToArray()));
    }

    /// <summary>Numeric features to [0, 1] (min-max) or to zero mean and unit variance.</summary>
    /// <remarks>
    /// Both shift as well as scale (<c>fixZero: false</c>). ML.NET's default keeps zero at zero, dividing by the largest
    /// magnitude or the standard deviation only: a feature far from zero (a year, a pressure around 1,000) then varies in
    /// a sliver of its range, and L-BFGS stops early on the ill-conditioned problem — logistic regression on standardized
    /// breast-cancer data lost 0.9 point of accuracy to it. Standardizing lets regularization weigh every feature alike
    /// whatever its spread, as scikit-learn's StandardScaler pipelines do.
    /// </remarks>
    private IEstimator<ITransformer> ScaleNumeric(string output, string input, bool standardize) => standardize
        ? _ml.Transforms.NormalizeMeanVariance(output, input, fixZero: false)
        : _ml.Transforms.NormalizeMinMax(output, input, fixZero: false);

    public IEstimator<ITransformer> Pipeline(CandidateSpec candidate)
    {
        IEstimator<ITransformer> featurization = Featurization(candidate.HyperParameters.TryGetValue(Standardize, out double s) && s > 0);
        // The checkpoint is not a transform: the fitted model (and its ONNX export) is the same with or without it.
        return (CacheFeatures ? featurization.AppendCacheCheckpoint(_ml) : featurization).Append(Trainer(candidate));
    }

    /// <remarks>
    /// Every trainer runs on one thread: a run trains its candidates and folds side by side, which fills the cores, and
    /// one thread keeps a seeded model the same from run to run (L-BFGS summed its gradient on several threads in
    /// varying order).
    /// </remarks>
    public IEstimator<ITransformer> Trainer(CandidateSpec c)
    {
        double H(string name, double fallback) => c.HyperParameters.TryGetValue(name, out double v) ? v : fallback;
        return (task, c.Trainer) switch
        {
            (MlTasks.Binary, "LbfgsLogisticRegression") => _ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
                new LbfgsLogisticRegressionBinaryTrainer.Options { L2Regularization = (float)H("l2", 1), NumberOfThreads = 1, ExampleWeightColumnName = Weight }),
            (MlTasks.Binary, "SdcaLogisticRegression") => _ml.BinaryClassification.Trainers.SdcaLogisticRegression(
                new SdcaLogisticRegressionBinaryTrainer.Options { L2Regularization = (float)H("l2", 0.001), NumberOfThreads = 1, ExampleWeightColumnName = Weight }),
            (MlTasks.Binary, "FastTree") => _ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfLeaves = (int)H("leaves", 20), NumberOfTrees = (int)H("trees", 100), LearningRate = H("learningRate", 0.2), NumberOfThreads = 1,
                ExampleWeightColumnName = Weight,
            }),
            (MlTasks.Binary, "LightGbm") => _ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfLeaves = (int)H("leaves", 31), NumberOfIterations = (int)H("iterations", 100), LearningRate = H("learningRate", 0.1),
                Seed = seed, NumberOfThreads = 1, MinimumExampleCountPerLeaf = 5, ExampleWeightColumnName = Weight,
            }),
            (MlTasks.Multiclass, "LbfgsMaximumEntropy") => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
                new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)H("l2", 1), NumberOfThreads = 1, ExampleWeightColumnName = Weight }),
            (MlTasks.Multiclass, "SdcaMaximumEntropy") => _ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(
                new SdcaMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)H("l2", 0.001), NumberOfThreads = 1, ExampleWeightColumnName = Weight }),
            (MlTasks.Multiclass, "FastTreeOva") => _ml.MulticlassClassification.Trainers.OneVersusAll(_ml.BinaryClassification.Trainers.FastTree(
                new FastTreeBinaryTrainer.Options
                {
                    NumberOfLeaves = (int)H("leaves", 20), NumberOfTrees = (int)H("trees", 100), LearningRate = H("learningRate", 0.2), NumberOfThreads = 1,
                    ExampleWeightColumnName = Weight,
                })),
            (MlTasks.Multiclass, "LightGbm") => _ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                NumberOfLeaves = (int)H("leaves", 31), NumberOfIterations = (int)H("iterations", 100), LearningRate = H("learningRate", 0.1),
                Seed = seed, NumberOfThreads = 1, MinimumExampleCountPerLeaf = 5, ExampleWeightColumnName = Weight,
            }),
            (MlTasks.Regression, "Sdca") => _ml.Regression.Trainers.Sdca(
                new SdcaRegressionTrainer.Options { L2Regularization = (float)H("l2", 0.01), NumberOfThreads = 1, MaximumNumberOfIterations = 2000, ConvergenceTolerance = 1e-5f }),
            (MlTasks.Regression, "FastTree") => _ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
            {
                NumberOfLeaves = (int)H("leaves", 20), NumberOfTrees = (int)H("trees", 100), LearningRate = H("learningRate", 0.1), NumberOfThreads = 1,
            }),
            (MlTasks.Regression, "LightGbm") => _ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            {
                NumberOfLeaves = (int)H("leaves", 15), NumberOfIterations = (int)H("iterations", 100), LearningRate = H("learningRate", 0.1),
                Seed = seed, NumberOfThreads = 1, MinimumExampleCountPerLeaf = 5,
            }),
            _ => throw LeptonException.BadRequest($"Trainer '{c.Trainer}' does not apply to {task}."),
        };
    }

    /// <summary>The task's metrics on scored data.</summary>
    public Dictionary<string, double> Evaluate(IDataView scored)
    {
        switch (task)
        {
            case MlTasks.Binary:
                CalibratedBinaryClassificationMetrics b = _ml.BinaryClassification.Evaluate(scored, LabelColumn);
                return new Dictionary<string, double>
                {
                    ["accuracy"] = b.Accuracy, ["auc"] = b.AreaUnderRocCurve, ["f1"] = b.F1Score, ["precision"] = b.PositivePrecision,
                    ["recall"] = b.PositiveRecall, ["logLoss"] = b.LogLoss,
                    ["truePositives"] = b.ConfusionMatrix.Counts[0][0], ["falseNegatives"] = b.ConfusionMatrix.Counts[0][1],
                    ["falsePositives"] = b.ConfusionMatrix.Counts[1][0], ["trueNegatives"] = b.ConfusionMatrix.Counts[1][1],
                };
            case MlTasks.Multiclass:
                MulticlassClassificationMetrics m = _ml.MulticlassClassification.Evaluate(scored, LabelColumn);
                double macroF1 = ModelMetrics.MacroF1(m.ConfusionMatrix.NumberOfClasses, (i, j) => m.ConfusionMatrix.Counts[i][j]);
                var metrics = new Dictionary<string, double>
                {
                    ["microAccuracy"] = m.MicroAccuracy, ["macroAccuracy"] = m.MacroAccuracy, ["macroF1"] = macroF1, ["logLoss"] = m.LogLoss,
                };
                for (int i = 0; i < m.ConfusionMatrix.Counts.Count; i++)
                {
                    for (int j = 0; j < m.ConfusionMatrix.Counts[i].Count; j++)
                    {
                        metrics[$"confusion_{i}_{j}"] = m.ConfusionMatrix.Counts[i][j];
                    }
                }

                return metrics;
            default:
                RegressionMetrics r = _ml.Regression.Evaluate(scored, LabelColumn);
                return new Dictionary<string, double> { ["rmse"] = r.RootMeanSquaredError, ["mae"] = r.MeanAbsoluteError, ["r2"] = r.RSquared };
        }
    }

    private static DataKind KindOf(ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric => DataKind.Single,
        ColumnKind.Boolean => DataKind.Boolean,
        _ => DataKind.String,
    };

    private DataKind LabelKind() => (task, LabelSchema.Kind) switch
    {
        (MlTasks.Regression, _) => DataKind.Single,
        (MlTasks.Binary, ColumnKind.Boolean) => DataKind.Boolean,
        (MlTasks.Binary, ColumnKind.Numeric) => DataKind.Single,
        _ => DataKind.String,
    };

    private sealed class ClassValue
    {
        public string Value { get; set; } = "";
    }
}
