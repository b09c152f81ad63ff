using Lepton.Errors;
using Lepton.Training;

namespace Lepton.Tests.Unit.Training;

public class FoldSplitterTests
{
    private static readonly string[] Labels = Enumerable.Range(0, 103).Select(i => i % 10 < 3 ? "yes" : "no").ToArray();

    [Fact]
    public void Assign_SameInput_SameFolds() =>
        Assert.Equal(FoldSplitter.Assign(Labels, 5, 42, stratify: true), FoldSplitter.Assign(Labels, 5, 42, stratify: true));

    [Fact]
    public void Assign_Stratified_EveryClassInEveryFoldInProportion()
    {
        int[] folds = FoldSplitter.Assign(Labels, 5, 42, stratify: true);

        for (int f = 0; f < 5; f++)
        {
            int yes = Labels.Where((_, i) => folds[i] == f).Count(l => l == "yes");
            int size = folds.Count(x => x == f);
            Assert.InRange(yes, 6, 7);
            Assert.InRange(size, 20, 21);
        }
    }

    [Fact]
    public void Assign_DifferentSeed_DifferentFolds() =>
        Assert.NotEqual(FoldSplitter.Assign(Labels, 5, 42, stratify: true), FoldSplitter.Assign(Labels, 5, 7, stratify: true));

    [Theory]
    [InlineData("only one class", "binary", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a")]
    [InlineData("has 2 rows; 5 stratified folds need at least 5 per class: ask for 'folds': 2, or add rows of 'b'.", "binary", "a", "a", "a", "a", "a", "a", "a", "a", "b", "b")]
    [InlineData("Class 'b' of 'y' has 1 row; 5 stratified folds need at least 5 per class: add rows of 'b'.", "binary", "a", "a", "a", "a", "a", "a", "a", "a", "a", "b")]
    [InlineData("3 rows are too few for 5 folds; at least 10 are needed: add rows.", "regression", "1", "2", "3")]
    [InlineData("8 rows are too few for 5 folds; at least 10 are needed: ask for 'folds': 4, or add rows.", "regression", "1", "2", "3", "4", "5", "6", "7", "8")]
    [InlineData("binary needs exactly two", "binary", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "c", "c", "c", "c", "c")]
    public void Validate_UnusableLabels_ExplainsWhy(string expected, string task, params string[] labels)
    {
        var e = Assert.Throws<LeptonException>(() => FoldSplitter.Validate(labels, 5, task, "y"));

        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Validate_MulticlassClassesRarerThanTheFolds_Accepted()
    {
        string[] labels = ["a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "b", "d", "d"];

        FoldSplitter.Validate(labels, 5, MlTasks.Multiclass, "y");

        // Stratified as before: the rare classes' rows land in different folds
        int[] folds = FoldSplitter.Assign(labels, 5, 42, stratify: true);
        Assert.NotEqual(folds[11], folds[12]);
        Assert.All(Enumerable.Range(0, 5), f => Assert.InRange(folds.Count(a => a == f), 2, 3));
    }

    [Fact]
    public void WriteFolds_AllInOnePass_SameFilesAsOneFoldAtATime()
    {
        // Arrange: a quoted cell too, which both must copy as it is
        string work = Directory.CreateTempSubdirectory("lepton-folds").FullName;
        try
        {
            string data = Path.Combine(work, "data.csv");
            File.WriteAllLines(data, ["x,label", .. Labels.Select((l, i) => i == 7 ? $"\"7,5\",{l}" : $"{i},{l}")]);
            int[] assignment = FoldSplitter.Assign(Labels, 5, 42, stratify: true);
            string oneByOne = Directory.CreateDirectory(Path.Combine(work, "one")).FullName, together = Directory.CreateDirectory(Path.Combine(work, "all")).FullName;

            // Act
            for (int f = 0; f < 5; f++)
            {
                FoldSplitter.WriteFold(data, assignment, f, oneByOne);
            }

            FoldSplitter.WriteFolds(data, assignment, 5, together);

            // Assert: byte for byte the same ten files, and no temporary file left behind
            for (int f = 0; f < 5; f++)
            {
                ((string train, string test), (string train2, string test2)) = (FoldSplitter.FoldFiles(oneByOne, f), FoldSplitter.FoldFiles(together, f));
                Assert.Equal(File.ReadAllBytes(train), File.ReadAllBytes(train2));
                Assert.Equal(File.ReadAllBytes(test), File.ReadAllBytes(test2));
            }

            Assert.Equal(10, Directory.GetFiles(together).Length);
            Assert.Equal(Labels.Length + 5, Enumerable.Range(0, 5).Sum(f => File.ReadAllLines(FoldSplitter.FoldFiles(together, f).Test).Length));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

public class CandidateCatalogTests
{
    [Theory]
    [InlineData(MlTasks.Binary, "LbfgsLogisticRegression", "SdcaLogisticRegression", "FastTree", "LightGbm", "Mlp", "Sgd")]
    [InlineData(MlTasks.Multiclass, "LbfgsMaximumEntropy", "SdcaMaximumEntropy", "FastTreeOva", "LightGbm", "Mlp", "Sgd")]
    [InlineData(MlTasks.Regression, "Sdca", "FastTree", "LightGbm", "Mlp", "Sgd")]
    public void For_Task_CoversRequiredTrainers(string task, params string[] trainers) =>
        Assert.Equal(trainers.Order(), CandidateCatalog.For(task).Select(c => c.Trainer).Distinct().Order());

    [Theory]
    [InlineData(MlTasks.Binary)]
    [InlineData(MlTasks.Multiclass)]
    [InlineData(MlTasks.Regression)]
    public void For_Task_OffersThreePerceptronsAndALinearNetwork(string task)
    {
        IReadOnlyList<CandidateSpec> networks = CandidateCatalog.For(task).Where(ParametricEngine.Handles).ToList();

        // mlp-100 is scikit-learn's default MLP, the architecture its "best default" often is
        Assert.Equal(["mlp-64", "mlp-100", "mlp-128x64", "sgd-linear"], networks.Select(c => c.Id));
        Assert.Equal(100, networks[1].HyperParameters["hidden1"]);
        Assert.Equal(2, networks[2].HyperParameters.Count(h => h.Key.StartsWith("hidden", StringComparison.Ordinal)));
    }

    [Fact]
    public void Plan_Subset_KeepsOnlyNamed() =>
        Assert.Equal(["sdca-lr"], CandidateCatalog.Plan(MlTasks.Binary, ["sdca-lr"]).Select(c => c.Id));

    [Fact]
    public void Plan_UnknownCandidate_ListsValidOnes()
    {
        var e = Assert.Throws<LeptonException>(() => CandidateCatalog.Plan(MlTasks.Binary, ["xgboost"]));

        Assert.Contains("sdca-lr", e.Message);
    }
}

public class LeaderboardTests
{
    private static readonly CandidateSpec A = new("a", "T", new Dictionary<string, double>());
    private static readonly CandidateSpec B = new("b", "T", new Dictionary<string, double>());

    private static FoldResult R(string id, int fold, double auc, string? error = null) =>
        new(id, fold, error is null ? new Dictionary<string, double> { ["auc"] = auc, ["rmse"] = auc } : new Dictionary<string, double>(), error, 0);

    [Fact]
    public void Aggregate_Folds_MeanAndSampleStd()
    {
        IReadOnlyList<LeaderboardEntry> board = Leaderboard.Aggregate([A], [R("a", 0, 0.8), R("a", 1, 0.9), R("a", 2, 1.0)], 3, "auc");

        Assert.Equal(0.9, board[0].Metrics["auc"].Mean, 10);
        Assert.Equal(0.1, board[0].Metrics["auc"].Std, 10);
    }

    [Fact]
    public void Aggregate_CandidateWithFailedFold_DroppedWithError()
    {
        IReadOnlyList<LeaderboardEntry> board = Leaderboard.Aggregate([A, B], [R("a", 0, 0.9), R("a", 1, 0, "boom"), R("b", 0, 0.7), R("b", 1, 0.7)], 2, "auc");

        Assert.Equal("b", Leaderboard.Best(board)!.CandidateId);
        Assert.Equal("boom", board.Single(e => e.CandidateId == "a").Error);
        Assert.Equal("a", board[^1].CandidateId);
    }

    [Theory]
    [InlineData("auc", "b")]
    [InlineData("rmse", "a")]
    public void Best_MetricDirection_PicksHigherOrLower(string metric, string expected)
    {
        IReadOnlyList<LeaderboardEntry> board = Leaderboard.Aggregate([A, B], [R("a", 0, 0.5), R("b", 0, 0.9)], 1, metric);

        Assert.Equal(expected, Leaderboard.Best(board)!.CandidateId);
    }

    private static FoldResult R(string id, int fold, double auc, double accuracy) =>
        new(id, fold, new Dictionary<string, double> { ["auc"] = auc, ["accuracy"] = accuracy }, null, 0);

    [Theory]
    [InlineData(0.987, "b")] // 0.003 below a: inside a's standard error (0.0058), so b, the more accurate, wins
    [InlineData(0.970, "a")] // 0.02 below: measurably worse on the metric, whatever its accuracy
    public void Best_RivalCloseOrFarOnTheMetric_TieGoesToTheMoreAccurate(double rivalAuc, string expected)
    {
        // Arrange: a leads on AUC with a fold-to-fold spread of 0.01; b is 3 points more accurate
        FoldResult[] results =
        [
            R("a", 0, 0.99, 0.95), R("a", 1, 0.98, 0.96), R("a", 2, 1.00, 0.94),
            R("b", 0, rivalAuc, 0.98), R("b", 1, rivalAuc, 0.97), R("b", 2, rivalAuc, 0.99),
        ];

        // Act
        IReadOnlyList<LeaderboardEntry> board = Leaderboard.Aggregate([A, B], results, 3, "auc");

        // Assert
        Assert.Equal(expected, Leaderboard.Best(board)!.CandidateId);
    }

    [Fact]
    public void Best_NoCandidateSucceeded_IsNull() =>
        Assert.Null(Leaderboard.Best(Leaderboard.Aggregate([A], [R("a", 0, 0, "boom")], 1, "auc")));

    [Theory]
    [InlineData("auc", 0.95, null, true)]
    [InlineData("auc", 0.95, 0.90, true)]
    [InlineData("auc", 0.90, 0.90, false)]
    [InlineData("auc", 0.85, 0.90, false)]
    [InlineData("rmse", 40.0, 50.0, true)]
    [InlineData("rmse", 60.0, 50.0, false)]
    public void ShouldPromote_AgainstProduction_OnlyWhenStrictlyBetter(string metric, double candidate, double? production, bool expected) =>
        Assert.Equal(expected, Leaderboard.ShouldPromote(metric, candidate, production, production is null ? null : 1).Promote);
}

public class ModelMetricsTests
{
    [Theory]
    [InlineData(1.0, new double[] { 3, 0, 0, 0, 2, 0, 0, 0, 0 })]
    [InlineData(1.0 / 3, new double[] { 3, 0, 0, 0, 0, 2, 0, 0, 0 })]
    [InlineData(0.8, new double[] { 2, 1, 0, 0, 2, 0, 0, 0, 0 })]
    public void MacroF1_ClassesAbsentFromTheRows_LeftOutUnlessPredicted(double expected, double[] counts)
    {
        // Three classes, counts [true, predicted] row-major. 1: the third class has no rows and is never predicted, so it is
        // left out. 2: the second class's rows are all predicted as the third, which has none: both count, at F1 0.
        // 3: one row of the first class taken for the second: 2·2/(3+2) for each, the third left out.
        double f1 = ModelMetrics.MacroF1(3, (i, j) => counts[i * 3 + j]);

        Assert.Equal(expected, f1, 3);
    }
}
