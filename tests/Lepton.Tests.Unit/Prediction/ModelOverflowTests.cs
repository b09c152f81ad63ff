using System.Text.Json;
using Lepton.Errors;
using Lepton.Prediction;
using Lepton.Tests.Unit.Training;
using Lepton.Training;

namespace Lepton.Tests.Unit.Prediction;

/// <summary>A real model given values far outside its training data: the rows it cannot score are reported, not a 500.</summary>
public sealed class ModelOverflowTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("lepton-overflow-test").FullName;
    private readonly OnnxScorer _scorer;
    private readonly IReadOnlyDictionary<string, string?> _row;

    public ModelOverflowTests()
    {
        // A linear model: its score is a weighted sum, which values near a float's limit overflow.
        (_scorer, string data) = TrainingEngineTests.TrainBreastCancerScorer(_work, "lbfgs-lr-l2-1");
        _row = TrainingEngine.ReadRows(data, 1)[0];
    }

    public void Dispose()
    {
        _scorer.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private ScoringBatch Rows(params Func<string, string>[] rows) => PredictionService.Validate(
        JsonDocument.Parse("[" + string.Join(',', rows.Select(value => "{" + string.Join(',', _scorer.Inputs.Select(i => $"\"{i.Name}\": {value(i.Name)}")) + "}")) + "]").RootElement,
        _scorer.Inputs);

    /// <summary>Every input at a float's limit, alternating in sign by the input's position.</summary>
    private string Extreme(string name) => _scorer.Inputs.Select(i => i.Name).ToList().IndexOf(name) % 2 == 0 ? "3.4e38" : "-3.4e38";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ScoreOrReportRows_ValuesNearAFloatsLimit_ReportsThatRowAlone(int rows)
    {
        // Arrange: the last row has every input at ±3.4e38 (valid floats); the others are a real row
        string Real(string name) => _row[name]!;
        ScoringBatch batch = Rows([.. Enumerable.Repeat<Func<string, string>>(Real, rows - 1), Extreme]);

        // Act
        var e = Assert.Throws<LeptonException>(() => PredictionService.ScoreOrReportRows(_scorer.Score, batch));

        // Assert
        RowError error = Assert.Single(Assert.IsAssignableFrom<IEnumerable<RowError>>(e.Extensions["errors"]));
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Equal(rows - 1, error.Row);
    }

    [Fact]
    public void Score_OneRowAfterARowTheModelCannotScore_StillUsesTheBinding()
    {
        // Arrange
        ScoringBatch real = Rows(name => _row[name]!);
        ScoringBatch extreme = Rows(Extreme);
        Dictionary<string, float[][]> before = _scorer.Score(real);

        // Act: a one-row call the runtime fails (a NaN reaches ML.NET's Binarizer) must not make the scorer give up its
        // fast path for good
        Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => _scorer.Score(extreme));
        Dictionary<string, float[][]> after = _scorer.Score(real);

        // Assert
        Assert.True(_scorer.BindsOneRowCalls);
        Assert.Equal(before[Lepton.Prediction.OnnxOutputs.Score][0], after[Lepton.Prediction.OnnxOutputs.Score][0]);
    }

    [Fact]
    public void Find_ModelFailsOnEveryRowAndOnZeros_ThrowsThePlatformsFailureAgain()
    {
        // Arrange: a real runtime failure, from a model that (as if broken) fails whatever it is given
        ScoringBatch extreme = Rows(Extreme);
        var failure = Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => _scorer.Score(extreme));
        Dictionary<string, float[][]> Broken(ScoringBatch _) => throw failure;

        // Act
        var thrown = Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => UnscorableRows.Find(Broken, Rows(name => _row[name]!, Extreme), failure));

        // Assert: not the caller's rows, so no 400 — the failure as it was
        Assert.Same(failure, thrown);
    }
}
