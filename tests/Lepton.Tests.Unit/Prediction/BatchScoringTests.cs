using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Prediction;
using Lepton.Tests.Unit.Training;
using Lepton.Training;

namespace Lepton.Tests.Unit.Prediction;

/// <summary>A scored chunk's text: each row's cells copied as valid CSV beside its prediction, formulas neutralized.</summary>
public sealed class BatchScoringTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("lepton-batch-test").FullName;
    private readonly OnnxScorer _scorer;
    private readonly ModelVersion _model;
    private readonly string[] _inputs;
    private readonly string _values;

    public BatchScoringTests()
    {
        (_scorer, string data) = TrainingEngineTests.TrainBreastCancerScorer(_work);
        _model = new("m", 1, "production", MlTasks.Binary, "auc", 0.9, "malignant", new CandidateSpec("c", "T", new Dictionary<string, double>()),
            [], [], "blob", "sha", [], "", ["false", "true"], default, "run", "");
        _inputs = _scorer.Inputs.Select(i => i.Name).ToArray();
        IReadOnlyDictionary<string, string?> first = TrainingEngine.ReadRows(data, 1)[0];
        _values = string.Join(',', _inputs.Select(n => first[n]));
    }

    public void Dispose()
    {
        _scorer.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Score(string staged, int rows, bool header = true)
    {
        var text = new StringWriter();
        BatchScoring.ScoreChunkText(_scorer, _model, System.Text.Encoding.UTF8.GetBytes(staged), rows, header, text);
        return text.ToString();
    }

    [Fact]
    public void ScoreChunkText_PlainQuotedAndFormulaCells_CopiedAsValidCsvBesideThePrediction()
    {
        // Arrange: a note column before the inputs, with plain, quoted, escaped, formula and signed-number notes
        string[] notes = ["plain", "\"a, b\"", "\"he said \"\"hi\"\"\"", "=1+2", "@cmd", "+x", "-1.5", "\" =sum()\"", "  spaced  "];
        string staged = "note," + string.Join(',', _inputs) + "\n" + string.Concat(notes.Select(n => n + "," + _values + "\n"));

        // Act
        string[] lines = Score(staged, notes.Length).Split('\n');

        // Assert: the header, then each row's note as a spreadsheet would read it safely, the inputs, the prediction
        Assert.Equal("note," + string.Join(',', _inputs) + ",prediction,score,probability", lines[0]);
        string[] expected = ["plain", "\"a, b\"", "\"he said \"\"hi\"\"\"", "'=1+2", "'@cmd", "'+x", "-1.5", "' =sum()", "  spaced  "];
        Assert.Equal(notes.Length + 2, lines.Length);
        Assert.Equal("", lines[^1]);
        for (int r = 0; r < notes.Length; r++)
        {
            Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(expected[r] + "," + _values) + ",(true|false),[^,]+,[^,]+$", lines[r + 1]);
        }
    }

    [Fact]
    public void ScoreChunkText_WindowsLineEndings_OutputLinesEndWithThePrediction()
    {
        // Arrange: rows ended by CR LF, as a file saved on Windows
        string staged = "id," + string.Join(',', _inputs) + "\r\n" + "1," + _values + "\r\n" + "2," + _values + "\r\n";

        // Act
        string output = Score(staged, 2);

        // Assert: no carriage return is carried into a row, so the prediction columns stay columns of their own
        Assert.DoesNotContain('\r', output);
        Assert.All(output.TrimEnd('\n').Split('\n').Skip(1), line => Assert.Matches(",(true|false),[^,]+,[^,]+$", line));
    }

    [Fact]
    public void ScoreChunkText_SemicolonChunkWithoutHeader_WrittenWithCommasAndNoHeader()
    {
        // Arrange: a chunk after the first (no header in the output) of a file separated by semicolons
        string staged = "id;" + string.Join(';', _inputs) + "\n" + "7;" + _values.Replace(',', ';') + "\n" + "\"x;y\";" + _values.Replace(',', ';') + "\n";

        // Act
        string[] lines = Score(staged, 2, header: false).TrimEnd('\n').Split('\n');

        // Assert
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("7," + _values + ",", lines[0]);
        Assert.StartsWith("x;y," + _values + ",", lines[1]);
    }

    [Fact]
    public void ScoreChunkText_SemicolonChunkWithDecimalCommas_ScoredAsTheSameNumbers()
    {
        // Arrange: the same row twice, with decimal points and as a spreadsheet in a decimal-comma locale writes it
        string header = string.Join(';', _inputs) + "\n";
        string withPoints = header + _values.Replace(',', ';') + "\n";
        string withCommas = header + _values.Replace(',', ';').Replace('.', ',') + "\n";

        // Act
        string[] fromPoints = Score(withPoints, 1).TrimEnd('\n').Split('\n')[1].Split(',');
        string[] fromCommas = Score(withCommas, 1).TrimEnd('\n').Split('\n')[1].Split(',');

        // Assert: prediction, score and probability are the last three cells of each
        Assert.Equal(fromPoints[^3..], fromCommas[^3..]);
    }

    [Fact]
    public void ScoreChunkText_RowTheModelCannotScore_RefusedNamingItsRowInTheFile()
    {
        // Arrange: the chunk's second row has every input at a float's limit (the model is linear: its score overflows)
        string extreme = string.Join(',', _inputs.Select((_, i) => i % 2 == 0 ? "3.4e38" : "-3.4e38"));
        string staged = string.Join(',', _inputs) + "\n" + _values + "\n" + extreme + "\n" + _values + "\n";

        // Act: the chunk starts at the file's 501st data row
        var e = Assert.Throws<LeptonException>(() => BatchScoring.ScoreChunkText(_scorer, _model, System.Text.Encoding.UTF8.GetBytes(staged), 3, true, new StringWriter(), firstRow: 500));

        // Assert
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.StartsWith("The model cannot score 1 row(s) of the file (data row 502): its arithmetic gives no number", e.Message);
    }

    [Fact]
    public void ScoreChunkText_TextBeyondAscii_CopiedUnchanged()
    {
        // Arrange: notes whose characters take two, three and four bytes in UTF-8, read from the chunk's bytes
        string[] notes = ["Zürich", "\"東京, 大阪\"", "naïve 😀"];
        string staged = "note," + string.Join(',', _inputs) + "\n" + string.Concat(notes.Select(n => n + "," + _values + "\n"));

        // Act
        string[] lines = Score(staged, notes.Length, header: false).TrimEnd('\n').Split('\n');

        // Assert
        Assert.Equal(notes.Length, lines.Length);
        for (int r = 0; r < notes.Length; r++)
        {
            Assert.StartsWith(notes[r] + "," + _values + ",", lines[r]);
        }
    }
}
