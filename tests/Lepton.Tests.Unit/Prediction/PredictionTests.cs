using System.Text.Json;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Prediction;
using Lepton.Tests.Unit.Training;
using Lepton.Training;
using Microsoft.Extensions.Options;
using Moq;

namespace Lepton.Tests.Unit.Prediction;

public class PredictionValidationTests
{
    private static readonly ModelInput[] Inputs = [new("age", "float"), new("smoker", "bool"), new("region", "string")];

    private static JsonElement Rows(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [InlineData(1, 25_000)]
    [InlineData(30, 25_000)]
    [InlineData(300, 2_500)]
    [InlineData(5_000, 1_000)]
    public void RowsPerChunk_FileWidth_KeepsChunksNearTheirCellBudgetWithinRowBounds(int columns, int expected)
    {
        Assert.Equal(expected, BatchScoring.RowsPerChunk(columns));
    }

    [Fact]
    public void SetCell_TextCells_FollowTheOneInputRule()
    {
        // Arrange
        ScoringBatch batch = ScoringBatch.For(Inputs, 3);
        string[][] cells = [["41.5", "yes", "north"], ["", "no", " south "], ["n/a", "maybe", ""]];

        // Act
        for (int r = 0; r < 3; r++)
        {
            for (int i = 0; i < Inputs.Length; i++)
            {
                batch.SetCell(i, r, cells[r][i]);
            }
        }

        // Assert: numbers parse (blank or unparsable: NaN), booleans are true only when said so, text stays as it came
        Assert.Equal([41.5f, float.NaN, float.NaN], batch.Column<float>("age"));
        Assert.Equal([true, false, false], batch.Column<bool>("smoker"));
        Assert.Equal(["north", " south ", ""], batch.Column<string>("region"));
    }

    [Fact]
    public void Validate_GoodRows_ReturnsCanonicalValues()
    {
        ScoringBatch batch = PredictionService.Validate(Rows("""[{"age": 41.5, "smoker": true, "region": "north"}]"""), Inputs);

        Assert.Equal((41.5f, true, "north"), (batch.Column<float>("age")[0], batch.Column<bool>("smoker")[0], batch.Column<string>("region")[0]));
    }

    [Theory]
    [InlineData("""[{"region": "north", "age": 41.5, "smoker": true}]""")]
    [InlineData("""[{"smoker": true, "region": "north", "age": 41.5}]""")]
    [InlineData("""[{"\u0061ge": 41.5, "smoker": true, "region": "north"}]""")]
    [InlineData("""[{"age": 7, "smoker": true, "region": "north", "age": 41.5}]""")]
    public void Validate_ColumnsInAnyOrderEscapedOrRepeated_SameValuesAsInTheModelsOrder(string rows)
    {
        // Arrange: the model's columns in another order, a name written with an escape, a column given twice (the last counts)

        // Act
        ScoringBatch batch = PredictionService.Validate(Rows(rows), Inputs);

        // Assert
        Assert.Equal((41.5f, true, "north"), (batch.Column<float>("age")[0], batch.Column<bool>("smoker")[0], batch.Column<string>("region")[0]));
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryRowAndField()
    {
        var e = Assert.Throws<LeptonException>(() => PredictionService.Validate(Rows("""
            [
              {"age": 41, "smoker": true, "region": "north"},
              {"age": "41", "smoker": true, "region": "north"},
              {"smoker": "yes", "region": "north", "height": 180},
              {"age": null, "smoker": false, "region": 7},
              "not an object"
            ]
            """), Inputs));

        var errors = Assert.IsAssignableFrom<IEnumerable<RowError>>(e.Extensions["errors"]).ToList();
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Contains(new RowError(1, "age", "must be a finite number, not the string \"41\""), errors);
        Assert.Contains(errors, x => x is { Row: 2, Field: "height" } && x.Problem.StartsWith("unknown column", StringComparison.Ordinal));
        Assert.Contains(new RowError(2, "age", "missing"), errors);
        Assert.Contains(errors, x => x is { Row: 2, Field: "smoker" });
        Assert.Contains(new RowError(3, "age", "must be a finite number, not null"), errors);
        Assert.Contains(errors, x => x is { Row: 3, Field: "region" });
        Assert.Contains(errors, x => x is { Row: 4 });
        Assert.DoesNotContain(errors, x => x.Row == 0);
    }

    [Fact]
    public void Validate_NumberBeyondAFloat_ReportsTheField()
    {
        var e = Assert.Throws<LeptonException>(() => PredictionService.Validate(Rows("""[{"age": 1e300, "smoker": true, "region": "north"}]"""), Inputs));

        var errors = Assert.IsAssignableFrom<IEnumerable<RowError>>(e.Extensions["errors"]).ToList();
        Assert.Equal(new RowError(0, "age", "must be within a 32-bit float's range (±3.4e38), not the number 1e300"), Assert.Single(errors));
    }

    [Fact]
    public void ScoreOrReportRows_NaNOrInfinityInAnyOutput_ReportsEveryRowSuchAndNoPrediction()
    {
        // Arrange: rows 1 and 3 overflowed (an infinite score, a NaN probability); rows 0 and 2 are fine
        var outputs = new Dictionary<string, float[][]>
        {
            ["Score.output"] = [[1.5f], [float.PositiveInfinity], [-0.5f], [2f]],
            ["Probability.output"] = [[0.8f], [1f], [0.4f], [float.NaN]],
        };
        ScoringBatch batch = ScoringBatch.For(Inputs, 4);

        // Act
        var e = Assert.Throws<LeptonException>(() => PredictionService.ScoreOrReportRows(_ => outputs, batch));

        // Assert
        var errors = Assert.IsAssignableFrom<IEnumerable<RowError>>(e.Extensions["errors"]).ToList();
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Equal([1, 3], errors.Select(x => x.Row));
        Assert.Contains("'Score.output' is not a finite number", errors[0].Problem);
        Assert.Contains("'Probability.output' is not a finite number", errors[1].Problem);
    }

    [Fact]
    public void ScoreOrReportRows_AllFinite_ReturnsTheOutputs()
    {
        var outputs = new Dictionary<string, float[][]> { ["Score.output"] = [[0.1f, 0.9f], [float.MaxValue, float.MinValue]] };

        Assert.Same(outputs, PredictionService.ScoreOrReportRows(_ => outputs, ScoringBatch.For(Inputs, 2)));
    }

    [Theory]
    [InlineData("""[{"age": 41, "smoker": true, "region": "north", "height": 180}]""", new[] { "height" })]
    [InlineData("""[{"age": "41", "smoker": true, "height": 180, "weight": 80}]""", new[] { "height", "weight", "age", "region" })]
    public void Validate_UnknownColumns_ReportedAheadOfTheRowsOtherProblems(string rows, string[] fields)
    {
        // Arrange: rows whose properties are not all inputs (the one case where their names are read)

        // Act
        var e = Assert.Throws<LeptonException>(() => PredictionService.Validate(Rows(rows), Inputs));

        // Assert: every problem, the unknown columns first, then the inputs in the model's order
        var errors = Assert.IsAssignableFrom<IEnumerable<RowError>>(e.Extensions["errors"]).ToList();
        Assert.Equal(fields, errors.Select(x => x.Field));
        Assert.StartsWith($"{fields.Length} problem(s) in the rows; the first: row 0, '{fields[0]}'", e.Message);
    }
}

public sealed class ModelSessionCacheTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("lepton-cache-test").FullName;
    private readonly byte[] _onnx;

    public ModelSessionCacheTests()
    {
        (string data, DatasetSchema schema) = TrainingEngineTests.Curate(TrainingEngineTests.RepoFile("samples", "breast_cancer_hospital_b.csv"), "malignant", _work);
        var plan = new TrainingPlan(new TrainRequest("t", "m", ["d"], "malignant", "binary", null, 5, null, "r"), [], schema, "malignant", MlTasks.Binary, "auc", 5, 42, 0,
            CandidateCatalog.For(MlTasks.Binary));
        _onnx = TrainingEngine.TrainFinal(plan, plan.Candidates[0], data, _work).Onnx;
    }

    private static ModelVersion Version(int v) => new("m", v, "production", "binary", "auc", 0.9, "malignant", new CandidateSpec("c", "T", new Dictionary<string, double>()),
        [], [], $"blob{v}", $"sha{v}", [], "", ["false", "true"], default, $"run{v}", "");

    [Fact]
    public async Task GetAsync_ConcurrentFirstRequests_LoadsOnce()
    {
        var artifacts = new Mock<IModelArtifacts>();
        artifacts.Setup(a => a.ReadOnnxAsync(It.IsAny<ModelVersion>(), It.IsAny<CancellationToken>()))
            .Returns(async () => { await Task.Delay(50); return _onnx; });
        using var cache = new ModelSessionCache(artifacts.Object, Options.Create(new PredictionOptions()));

        OnnxScorer[] scorers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => cache.GetAsync(Version(1), "t", CancellationToken.None))));

        Assert.Single(scorers.Distinct());
        Assert.Equal(1, cache.Loads);
        artifacts.Verify(a => a.ReadOnnxAsync(It.IsAny<ModelVersion>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task GetAsync_BeyondLimit_EvictsLeastRecentlyUsed()
    {
        var artifacts = new Mock<IModelArtifacts>();
        artifacts.Setup(a => a.ReadOnnxAsync(It.IsAny<ModelVersion>(), It.IsAny<CancellationToken>())).ReturnsAsync(_onnx);
        using var cache = new ModelSessionCache(artifacts.Object, Options.Create(new PredictionOptions { MaxCachedSessions = 2, RequestTimeout = TimeSpan.FromMilliseconds(10) }));

        await cache.GetAsync(Version(1), "t", CancellationToken.None);
        await cache.GetAsync(Version(2), "t", CancellationToken.None);
        await cache.GetAsync(Version(1), "t", CancellationToken.None);
        await cache.GetAsync(Version(3), "t", CancellationToken.None);
        await cache.GetAsync(Version(1), "t", CancellationToken.None);
        await cache.GetAsync(Version(2), "t", CancellationToken.None);

        Assert.Equal(2, cache.Count);
        Assert.Equal(4, cache.Loads);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
