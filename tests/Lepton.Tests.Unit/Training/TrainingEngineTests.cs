using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Tests.Unit.Training;

/// <summary>Real ML.NET training, ONNX export and ONNX Runtime scoring on the repository's sample data.</summary>
public sealed class TrainingEngineTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("lepton-train-test").FullName;

    internal static string RepoFile(params string[] parts) => Path.Combine([Lepton.DevHost.RepoRoot.Find(), .. parts]);

    /// <summary>Runs the real preprocessing on a file and returns the curated file and its schema.</summary>
    internal static (string Path, DatasetSchema Schema) Curate(string source, string label, string work)
    {
        string curated = Path.Combine(work, "curated.csv");
        return (curated, LocalCuration.Curate(source, curated, new DatasetSpec(Label: label)).Analysis.Schema!);
    }

    /// <summary>
    /// A served model of hospital B's breast-cancer sample (binary, label "malignant"): the named candidate, or the
    /// catalog's first; with the curated file it was trained on.
    /// </summary>
    internal static (OnnxScorer Scorer, string Data) TrainBreastCancerScorer(string work, string? candidateId = null)
    {
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_b.csv"), "malignant", work);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);
        CandidateSpec candidate = candidateId is null ? plan.Candidates[0] : plan.Candidates.Single(c => c.Id == candidateId);
        return (new OnnxScorer(TrainingEngine.TrainFinal(plan, candidate, data, work).Onnx), data);
    }

    private static TrainingPlan Plan(DatasetSchema schema, string label, string task) =>
        new(new TrainRequest("t", "m", ["d"], label, task, null, 5, null, "run"), [], schema, label, task,
            TaskMetrics.DefaultMetric(task), 5, 42, 0, CandidateCatalog.For(task));

    [Theory]
    [InlineData("lbfgs-lr-l2-1")]
    [InlineData("lbfgs-lr-std-l2-1")]
    [InlineData("fasttree-20x100")]
    [InlineData("lightgbm-31x200")]
    public void TrainFinal_BreastCancer_OnnxMatchesMlNet(string candidateId)
    {
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_a.csv"), "malignant", _work);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);

        FinalModel model = TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == candidateId), data, _work);

        Assert.True(model.ParityMaxDifference <= TrainingEngine.ParityTolerance);
        Assert.Equal(200, model.ParityRows);
        Assert.Equal(30, model.Inputs.Count);
        Assert.DoesNotContain(model.Inputs, i => i.Name == "malignant");
        Assert.Equal(["PredictedLabel.output", "Score.output", "Probability.output"], GraphOutputs(model));
    }

    [Fact]
    public void Score_MlNetExportWithNumericInputsPacked_OneRowMatchesTheBatchAndInputsKeepTheirOrder()
    {
        // Arrange: an exported logistic regression and 40 of its rows
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_a.csv"), "malignant", _work);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);
        FinalModel model = TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == "lbfgs-lr-l2-1"), data, _work);
        List<IReadOnlyDictionary<string, string?>> rows = TrainingEngine.ReadRows(data, 40);

        // Act: the session takes the 30 numeric columns as one tensor; score them together and one at a time
        using var scorer = new OnnxScorer(model.Onnx);
        Dictionary<string, float[][]> together = scorer.Score(rows);
        Dictionary<string, float[][]>[] alone = rows.Select(r => scorer.Score([r])).ToArray();

        // Assert: callers still fill the model's own columns, in the file's order, and both paths agree on every output
        // (the training run's parity check already compared the batch path with ML.NET); one-row calls ran bound
        Assert.Equal(30, scorer.PackedInputs);
        Assert.Equal(schema.Columns.Select(c => c.Name).Where(n => n != "malignant"), scorer.Inputs.Select(i => i.Name));
        Assert.True(scorer.BindsOneRowCalls);
        Assert.Equal(["PredictedLabel.output", "Score.output", "Probability.output"], together.Keys);
        foreach ((string output, float[][] values) in together)
        {
            // (a batch's matrix product may sum in another order than one row's)
            Assert.All(Enumerable.Range(0, rows.Count), r => Assert.True(Math.Abs(values[r][0] - alone[r][output][0][0]) <= 1e-5,
                $"{output}, row {r}: {values[r][0]} vs {alone[r][output][0][0]}"));
            Assert.All(alone, a => Assert.Equal(values[0].Length, Assert.Single(a[output]).Length));
        }
    }

    [Theory]
    [InlineData("breast_cancer_hospital_a.csv", "malignant", MlTasks.Binary, "lightgbm-31x200")]
    [InlineData("digits_member_1.csv", "digit", MlTasks.Multiclass, "lbfgs-maxent-l2-1")]
    [InlineData("breast_cancer_hospital_b.csv", "mean_area", MlTasks.Regression, "fasttree-20x100")]
    public void Score_OneRowThroughTheKeptBinding_SameOutputsAsTheBatch(string file, string label, string task, string candidateId)
    {
        // Arrange: a model of each task with numeric inputs only, and 25 of its rows
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", file), label, _work);
        TrainingPlan plan = Plan(schema with { Label = label }, label, task);
        var candidate = plan.Candidates.Single(c => c.Id == candidateId);
        FinalModel model = TrainingEngine.TrainFinal(plan, candidate, data, _work);
        List<IReadOnlyDictionary<string, string?>> rows = TrainingEngine.ReadRows(data, 25);

        // Act
        using var scorer = new OnnxScorer(model.Onnx);
        Dictionary<string, float[][]> together = scorer.Score(rows);
        Dictionary<string, float[][]>[] alone = rows.Select(r => scorer.Score([r])).ToArray();

        // Assert: every output of every row, with its full width (one score per class for multiclass)
        Assert.True(scorer.BindsOneRowCalls);
        Assert.All(alone, a => Assert.Equal(together.Keys, a.Keys));
        foreach ((string output, float[][] values) in together)
        {
            for (int r = 0; r < rows.Count; r++)
            {
                float[] one = Assert.Single(alone[r][output]);
                Assert.Equal(values[r].Length, one.Length);
                Assert.All(Enumerable.Range(0, one.Length), j => Assert.True(Math.Abs(values[r][j] - one[j]) <= 1e-4 * Math.Max(1, Math.Abs(one[j])),
                    $"{output}, row {r}, value {j}: {values[r][j]} vs {one[j]}"));
            }
        }
    }

    /// <summary>A graph input or output as ML.NET declares a numeric column: float, [N, 1].</summary>
    private static Onnx.ValueInfoProto FloatColumn(string name) => new()
    {
        Name = name,
        Type = new Onnx.TypeProto { TensorType = new Onnx.TypeProto.Types.Tensor { ElemType = 1, Shape = new Onnx.TensorShapeProto
        {
            Dim = { new Onnx.TensorShapeProto.Types.Dimension { DimParam = "N" }, new Onnx.TensorShapeProto.Types.Dimension { DimValue = 1 } },
        } } },
    };

    [Fact]
    public void WithNumericInputsPacked_GraphThatDoesNotPutColumnsSideBySide_LeftAsItIs()
    {
        // Arrange: two float columns that a node adds rather than puts side by side
        var graph = new Onnx.GraphProto { Name = "sum", Input = { FloatColumn("a"), FloatColumn("b") }, Output = { FloatColumn("Score.output") } };
        graph.Node.Add(new Onnx.NodeProto { OpType = "Add", Input = { "a", "b" }, Output = { "Score.output" } });
        byte[] model = Google.Protobuf.MessageExtensions.ToByteArray(new Onnx.ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new Onnx.OperatorSetIdProto { Version = 13 } } });

        // Act
        (byte[] served, OnnxScorer.PackedColumns? packed) = OnnxScorer.WithNumericInputsPacked(model);

        // Assert: nothing packed, and the model scores as it is
        Assert.Null(packed);
        Assert.Same(model, served);
        using var scorer = new OnnxScorer(model);
        Assert.Equal(0, scorer.PackedInputs);
        Assert.Equal(5f, scorer.Score([new Dictionary<string, string?> { ["a"] = "2", ["b"] = "3" }])["Score.output"][0][0]);
    }

    [Fact]
    public void WithNumericInputsPacked_GraphWithASubgraph_LeftAsItIs()
    {
        // Arrange: columns put side by side, and an If node whose branches could read any outer value unnamed
        var graph = new Onnx.GraphProto { Name = "branching", Input = { FloatColumn("a"), FloatColumn("b") }, Output = { FloatColumn("Score.output") } };
        graph.Node.Add(new Onnx.NodeProto { OpType = "Concat", Input = { "a", "b" }, Output = { "ab" }, Attribute = { new Onnx.AttributeProto { Name = "axis", I = 1 } } });
        graph.Node.Add(new Onnx.NodeProto
        {
            OpType = "If", Input = { "ab" }, Output = { "Score.output" },
            Attribute = { new Onnx.AttributeProto { Name = "then_branch", G = new Onnx.GraphProto { Name = "then" } } },
        });
        byte[] model = Google.Protobuf.MessageExtensions.ToByteArray(new Onnx.ModelProto { IrVersion = 8, Graph = graph });

        // Act
        (byte[] served, OnnxScorer.PackedColumns? packed) = OnnxScorer.WithNumericInputsPacked(model);

        // Assert
        Assert.Null(packed);
        Assert.Same(model, served);
    }

    /// <summary>The outputs the exported graph declares (ONNX Runtime computes every declared output on each call).</summary>
    private static IEnumerable<string> GraphOutputs(FinalModel model) => Onnx.ModelProto.Parser.ParseFrom(model.Onnx).Graph.Output.Select(o => o.Name);

    [Fact]
    public void EvaluateFold_BreastCancerLogisticRegression_HighAuc()
    {
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_a.csv"), "malignant", _work);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);
        List<string> labels = FoldSplitter.ReadColumn(data, "malignant");
        int[] folds = FoldSplitter.Assign(labels, 5, 42, stratify: true);
        (string train, string test) = FoldSplitter.WriteFold(data, folds, 0, _work);

        FoldResult result = TrainingEngine.EvaluateFold(plan, plan.Candidates[0], train, test, 0);

        Assert.InRange(result.Metrics["auc"], 0.95, 1.0);
        Assert.Equal(52, result.Metrics["truePositives"] + result.Metrics["falseNegatives"] + result.Metrics["falsePositives"] + result.Metrics["trueNegatives"]);
    }

    [Theory]
    [InlineData("lbfgs-lr-l2-1")]
    [InlineData("fasttree-20x100")]
    [InlineData("lightgbm-31x200")]
    public void EvaluateFold_FeaturesCachedOrStreamedFromTheFile_SameMetrics(string candidateId)
    {
        // Arrange: the same fold, once as small data (featurized rows held in memory) and once as data too large to hold
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_a.csv"), "malignant", _work);
        TrainingPlan cached = Plan(schema, "malignant", MlTasks.Binary);
        TrainingPlan streamed = cached with { Rows = (TrainingEngine.CacheFeaturesUpToCells / schema.Columns.Count) + 1 };
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, "malignant"), 5, 42, stratify: true);
        (string train, string test) = FoldSplitter.WriteFold(data, folds, 0, _work);
        CandidateSpec candidate = cached.Candidates.Single(c => c.Id == candidateId);

        // Act
        FoldResult fromMemory = TrainingEngine.EvaluateFold(cached, candidate, train, test, 0);
        FoldResult fromFile = TrainingEngine.EvaluateFold(streamed, candidate, train, test, 0);

        // Assert: the cache changes where the rows come from, not the model (SDCA, left out here, shuffles rows held in memory
        // in another order than rows streamed from the file: its model moves within the noise of its random order)
        Assert.True(TrainingEngine.CachesFeatures(cached));
        Assert.False(TrainingEngine.CachesFeatures(streamed));
        Assert.Equal(fromFile.Metrics["auc"], fromMemory.Metrics["auc"], 6);
        Assert.Equal(fromFile.Metrics["logLoss"], fromMemory.Metrics["logLoss"], 6);
    }

    [Theory]
    [InlineData("lbfgs-maxent-l2-1")]
    [InlineData("lbfgs-maxent-std-l2-1")]
    public void TrainFinal_MulticlassWithCategoricalFeature_OnnxMatchesMlNetAndKeepsClassOrder(string candidateId)
    {
        // Arrange: three classes separated by two numbers and a category, with a fixed seed
        var random = new Random(3);
        var csv = new System.Text.StringBuilder("x,y,shape,species\n");
        string[] species = ["setosa", "versicolor", "virginica"];
        for (int i = 0; i < 300; i++)
        {
            int k = i % 3;
            csv.Append(FormattableString.Invariant($"{k * 2 + random.NextDouble():F3},{k - random.NextDouble():F3},{(k == 2 ? "round" : random.Next(2) == 0 ? "flat" : "long")},{species[k]}\n"));
        }

        string source = Path.Combine(_work, "species.csv");
        File.WriteAllText(source, csv.ToString());
        (string data, DatasetSchema schema) = Curate(source, "species", _work);
        TrainingPlan plan = Plan(schema, "species", MlTasks.Multiclass);

        // Act
        FinalModel model = TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == candidateId), data, _work);

        // Assert
        Assert.True(model.ParityMaxDifference <= TrainingEngine.ParityTolerance);
        Assert.Equal(species, model.ClassLabels);
        Assert.Equal(["x", "y", "shape"], model.Inputs.Select(i => i.Name));
        Assert.Equal("string", model.Inputs.Single(i => i.Name == "shape").Type);
        Assert.Equal(["PredictedLabel.output", "Score.output"], GraphOutputs(model));
    }

    [Fact]
    public void TrainFinal_Regression_OnnxMatchesMlNet()
    {
        (string data, DatasetSchema schema) = Curate(RepoFile("samples", "breast_cancer_hospital_b.csv"), "mean_area", _work);
        TrainingPlan plan = Plan(schema with { Label = "mean_area" }, "mean_area", MlTasks.Regression);

        FinalModel model = TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Trainer == "LightGbm"), data, _work);

        Assert.True(model.ParityMaxDifference <= TrainingEngine.ParityTolerance);
        Assert.Contains(model.Inputs, i => i.Name == "malignant" && i.Type == "bool");
        Assert.Equal(["Score.output"], GraphOutputs(model));
    }

    [Fact]
    public void EvaluateFold_StandardizedLogisticRegressionAllThreeHospitals_AsAccurateAsScikitLearn()
    {
        // Arrange: the three hospitals' rows are the whole breast-cancer data set (569 rows)
        string source = Path.Combine(_work, "breast_cancer.csv");
        string[] hospitals = ["a", "b", "c"];
        File.WriteAllLines(source, hospitals.SelectMany((h, i) => File.ReadLines(RepoFile("samples", $"breast_cancer_hospital_{h}.csv")).Skip(i == 0 ? 0 : 1)));
        (string data, DatasetSchema schema) = Curate(source, "malignant", _work);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, "malignant"), 5, 42, stratify: true);

        // Act
        double accuracy = Enumerable.Range(0, 5).Average(f =>
        {
            (string train, string test) = FoldSplitter.WriteFold(data, folds, f, _work);
            return TrainingEngine.EvaluateFold(plan, plan.Candidates.Single(c => c.Id == "lbfgs-lr-std-l2-1"), train, test, f).Metrics["accuracy"];
        });

        // Assert: scikit-learn 1.2.1's standardized logistic regression (C = 1, the same model) scores 0.9719 on these
        // rows and folds (scripts/sklearn_reference.py); the goal is half a point from it.
        Assert.InRange(accuracy, 0.9719 - 0.005, 1.0);
    }

    /// <summary>A binary label that is "rare" for about one row in twelve: two noisy numbers decide it.</summary>
    private (string Data, DatasetSchema Schema) SkewedBinary()
    {
        var random = new Random(17);
        var csv = new System.Text.StringBuilder("x1,x2,outcome\n");
        for (int i = 0; i < 2000; i++)
        {
            double x1 = Normal(random), x2 = Normal(random);
            bool rare = x1 + 0.5 * x2 + 0.8 * Normal(random) > 1.9;
            csv.Append(FormattableString.Invariant($"{x1:F4},{x2:F4},{(rare ? "rare" : "common")}\n"));
        }

        string source = Path.Combine(_work, "skewed.csv");
        File.WriteAllText(source, csv.ToString());
        return Curate(source, "outcome", _work);
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Theory]
    [InlineData("lbfgs-lr-l2-1")]
    [InlineData("sdca-lr")]
    [InlineData("fasttree-20x100")]
    [InlineData("lightgbm-31x200")]
    [InlineData("sgd-linear")]
    [InlineData("mlp-64")]
    public void EvaluateFold_BalancedClassWeights_FindMoreOfTheRareClass(string candidateId)
    {
        // Arrange: the same fold of a skewed label, trained with and without balanced class weights
        (string data, DatasetSchema schema) = SkewedBinary();
        TrainingPlan plain = Plan(schema, "outcome", MlTasks.Binary);
        TrainingPlan balanced = plain with { Request = plain.Request with { ClassWeights = ClassWeighting.Balanced } };
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, "outcome"), 5, 42, stratify: true);
        (string train, string test) = FoldSplitter.WriteFold(data, folds, 0, _work);
        CandidateSpec candidate = plain.Candidates.Single(c => c.Id == candidateId);

        // Act
        FoldResult unweighted = TrainingEngine.EvaluateFold(plain, candidate, train, test, 0);
        FoldResult weighted = TrainingEngine.EvaluateFold(balanced, candidate, train, test, 0);

        // Assert: the rare class is found far more often, and the ranking (AUC) stays about as good — the weights move
        // the decision threshold more than they change what the model learns.
        Assert.True(weighted.Metrics["recall"] > unweighted.Metrics["recall"] + 0.1,
            $"recall {unweighted.Metrics["recall"]:F3} unweighted, {weighted.Metrics["recall"]:F3} weighted");
        Assert.InRange(weighted.Metrics["auc"], unweighted.Metrics["auc"] - 0.03, 1.0);
    }

    [Theory]
    [InlineData("lbfgs-lr-l2-1")]
    [InlineData("mlp-64")]
    public void TrainFinal_BalancedClassWeights_ExportsTheSameInputsAndMatchesOnnx(string candidateId)
    {
        // Arrange
        (string data, DatasetSchema schema) = SkewedBinary();
        TrainingPlan plan = Plan(schema, "outcome", MlTasks.Binary);
        plan = plan with { Request = plan.Request with { ClassWeights = ClassWeighting.Balanced } };

        // Act
        FinalModel model = TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == candidateId), data, _work);

        // Assert: the weights are a training-time matter; the served model takes the features only
        Assert.Equal(["x1", "x2"], model.Inputs.Select(i => i.Name));
        Assert.Equal(["common", "rare"], model.ClassLabels);
        Assert.True(model.ParityMaxDifference <= TrainingEngine.ParityTolerance, $"parity {model.ParityMaxDifference}");
    }

    [Fact]
    public void EvaluateFold_BalancedClassWeightsMulticlass_RaiseTheRareClassesRecall()
    {
        // Arrange: three classes at about 80/15/5 %, split by one noisy number; the rarest is named top, "c"
        var random = new Random(5);
        var csv = new System.Text.StringBuilder("x,noise,grade\n");
        for (int i = 0; i < 1500; i++)
        {
            double x = Normal(random), score = x + 0.7 * Normal(random);
            // The rarest class's name needs quoting, so its weight is found by the label as the loader unescapes it.
            csv.Append(FormattableString.Invariant($"{x:F4},{Normal(random):F4},{(score > 2.0 ? "\"top, \"\"c\"\"\"" : score > 1.1 ? "b" : "a")}\n"));
        }

        string source = Path.Combine(_work, "grades.csv");
        File.WriteAllText(source, csv.ToString());
        (string data, DatasetSchema schema) = Curate(source, "grade", _work);
        TrainingPlan plain = Plan(schema, "grade", MlTasks.Multiclass);
        TrainingPlan balanced = plain with { Request = plain.Request with { ClassWeights = ClassWeighting.Balanced } };
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, "grade"), 5, 42, stratify: true);
        (string train, string test) = FoldSplitter.WriteFold(data, folds, 0, _work);
        CandidateSpec candidate = plain.Candidates.Single(c => c.Id == "lbfgs-maxent-l2-1");

        // Act
        FoldResult unweighted = TrainingEngine.EvaluateFold(plain, candidate, train, test, 0);
        FoldResult weighted = TrainingEngine.EvaluateFold(balanced, candidate, train, test, 0);

        // Assert: macro-accuracy is the mean of the classes' recalls
        Assert.True(weighted.Metrics["macroAccuracy"] > unweighted.Metrics["macroAccuracy"] + 0.05,
            $"macro-accuracy {unweighted.Metrics["macroAccuracy"]:F3} unweighted, {weighted.Metrics["macroAccuracy"]:F3} weighted");
    }

    [Theory]
    [InlineData("lbfgs-maxent-l2-1")]
    [InlineData("lbfgs-maxent-std-l2-1")]
    [InlineData("sdca-maxent")]
    [InlineData("fasttree-ova-20x100")]
    [InlineData("lightgbm-31x200")]
    [InlineData("mlp-64")]
    [InlineData("lbfgs-maxent-l2-1", true)]
    [InlineData("mlp-64", true)]
    public void EvaluateFold_ClassesRarerThanTheFolds_EveryRowCountsInTheFoldThatTestsIt(string candidateId, bool balanced = false)
    {
        // Arrange: three classes of 40 rows around three centres, "few" with 2 rows and "one" with a single row, 5 folds:
        // "few" is tested in two folds whose models each saw one of its rows, "one" in a fold whose model never saw it
        var random = new Random(11);
        var csv = new System.Text.StringBuilder("x1,x2,kind\n");
        (string Kind, double X1, double X2, int Rows)[] groups = [("north", 0, 4, 40), ("east", 4, 0, 40), ("south", 0, -4, 40), ("few", -4, 0, 2), ("one", -4, 4, 1)];
        foreach ((string kind, double x1, double x2, int rows) in groups)
        {
            for (int i = 0; i < rows; i++)
            {
                csv.Append(FormattableString.Invariant($"{x1 + Normal(random):F4},{x2 + Normal(random):F4},{kind}\n"));
            }
        }

        string source = Path.Combine(_work, "kinds.csv");
        File.WriteAllText(source, csv.ToString());
        (string data, DatasetSchema schema) = Curate(source, "kind", _work);
        TrainingPlan plan = Plan(schema, "kind", MlTasks.Multiclass);
        plan = balanced ? plan with { Request = plan.Request with { ClassWeights = ClassWeighting.Balanced } } : plan;
        List<string> labels = FoldSplitter.ReadColumn(data, "kind");
        FoldSplitter.Validate(labels, 5, MlTasks.Multiclass, "kind");
        int[] folds = FoldSplitter.Assign(labels, 5, 42, stratify: true);
        FoldSplitter.WriteFolds(data, folds, 5, _work);
        CandidateSpec candidate = plan.Candidates.Single(c => c.Id == candidateId);

        // Act
        FoldResult[] results = [.. Enumerable.Range(0, 5).Select(f => TrainingEngine.EvaluateFold(plan, candidate, FoldSplitter.FoldFiles(_work, f).Train,
            FoldSplitter.FoldFiles(_work, f).Test, f))];
        LeaderboardEntry entry = Leaderboard.Aggregate([candidate], results, 5, plan.Metric).Single();

        // Assert: every fold has the selection metric, a five-class confusion matrix (classes sort as
        // east, few, north, one, south) holding each of its test rows, the lone "one" row among them
        Assert.Null(entry.Error);
        Assert.All(results, r => Assert.True(r.Metrics.ContainsKey("macroF1") && r.Metrics.ContainsKey("microAccuracy"), string.Join(", ", r.Metrics.Keys)));
        Assert.All(results, r => Assert.True(r.Metrics.ContainsKey("confusion_4_4")));
        int[] testRows = [.. Enumerable.Range(0, 5).Select(f => folds.Count(a => a == f))];
        Assert.Equal(testRows, results.Select(r => (int)Enumerable.Range(0, 5).Sum(i => Enumerable.Range(0, 5).Sum(j => r.Metrics[$"confusion_{i}_{j}"]))));
        Assert.Equal(1, results.Sum(r => Enumerable.Range(0, 5).Sum(j => r.Metrics[$"confusion_3_{j}"])));
        Assert.Equal(2, results.Sum(r => Enumerable.Range(0, 5).Sum(j => r.Metrics[$"confusion_1_{j}"])));
        Assert.True(entry.Metrics["microAccuracy"].Mean > 0.9, $"micro-accuracy {entry.Metrics["microAccuracy"].Mean:F3}");
        // A class a fold neither holds nor predicts does not count as F1 = 0 there (that capped a perfect fold at 3/5)
        Assert.True(entry.Metrics["macroF1"].Mean > 0.8, $"macro-F1 {entry.Metrics["macroF1"].Mean:F3}");
    }

    [Theory]
    [InlineData("2", "4", "lbfgs-lr-l2-1")] // the original Wisconsin coding: 2 benign, 4 malignant
    [InlineData("2", "4", "fasttree-20x100")]
    [InlineData("-1", "1", "sdca-lr")]
    [InlineData("-1", "1", "mlp-64")]
    public void EvaluateFold_NumericBinaryLabelOtherThanZeroOne_TwoClassesLearned(string negative, string positive, string candidateId)
    {
        // Arrange: hospital A's rows with the label written as two numbers
        string[] lines = File.ReadAllLines(RepoFile("samples", "breast_cancer_hospital_a.csv"));
        string source = Path.Combine(_work, "coded.csv");
        File.WriteAllLines(source, [lines[0], .. lines.Skip(1).Select(l => l.EndsWith(",true", StringComparison.Ordinal) ? l[..^5] + "," + positive : l[..^6] + "," + negative)]);
        (string data, DatasetSchema schema) = Curate(source, "malignant", _work);
        Assert.Equal(ColumnKind.Numeric, schema.Columns.Single(c => c.Name == "malignant").Kind);
        Assert.Equal(MlTasks.Binary, schema.Task);
        TrainingPlan plan = Plan(schema, "malignant", MlTasks.Binary);
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, "malignant"), 5, 42, stratify: true);
        (string train, string test) = FoldSplitter.WriteFold(data, folds, 0, _work);

        // Act
        FoldResult result = TrainingEngine.EvaluateFold(plan, plan.Candidates.Single(c => c.Id == candidateId), train, test, 0);

        // Assert: both classes reach the trainer (a conversion to boolean made every non-zero number "true"), and the
        // positive class — the second in ordinal order — is the malignant one
        Assert.True(result.Metrics.TryGetValue("auc", out double auc) && auc > 0.95, string.Join(", ", result.Metrics.Select(m => $"{m.Key}={m.Value:F3}")));
        Assert.True(result.Metrics["truePositives"] > 0 && result.Metrics["trueNegatives"] > 0);
    }

    [Theory]
    [InlineData(false, 0.0, 1.0)]
    [InlineData(true, -1.41, 1.41)]
    public void Featurization_NumericFarFromZero_ShiftedAsWellAsScaled(bool standardize, double low, double high)
    {
        // Arrange: a pressure around 1,000 that varies by a few units, a constant, and a category
        var schema = new DatasetSchema([new ColumnSchema("pressure", ColumnKind.Numeric, false), new ColumnSchema("gauge", ColumnKind.Numeric, false),
            new ColumnSchema("site", ColumnKind.Categorical, false), new ColumnSchema("y", ColumnKind.Boolean, true)], "y", MlTasks.Binary);
        var factory = new ModelFactory(schema, "y", MlTasks.Binary, 42);
        var rows = Enumerable.Range(0, 100).Select(i => new PressureRow { Pressure = 1000 + i % 5, Site = i % 2 == 0 ? "north" : "south" }).ToArray();
        Microsoft.ML.IDataView view = factory.Context.Data.LoadFromEnumerable(rows);

        // Act
        Microsoft.ML.IDataView features = factory.Featurization(standardize).Fit(view).Transform(view);
        float[][] vectors = factory.Context.Data.CreateEnumerable<FeatureRow>(features, reuseRowObject: false).Select(r => r.Features).ToArray();

        // Assert: the pressure spans its range instead of sitting near 1; the constant is a finite constant; the one-hot
        // category stays 0/1
        Assert.InRange(vectors.Min(v => v[0]), low - 0.1, low + 0.1);
        Assert.InRange(vectors.Max(v => v[0]), high - 0.1, high + 0.1);
        Assert.Single(vectors.Select(v => v[1]).Distinct());
        Assert.True(float.IsFinite(vectors[0][1]));
        Assert.All(vectors, v => Assert.Equal([1f, 0f], v.Skip(2).OrderDescending()));
    }

    private sealed class PressureRow
    {
        [Microsoft.ML.Data.ColumnName("pressure")]
        public float Pressure { get; set; }

        [Microsoft.ML.Data.ColumnName("gauge")]
        public float Gauge { get; set; } = 7;

        [Microsoft.ML.Data.ColumnName("site")]
        public string Site { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
