using System.Text;
using Lepton.Configuration;
using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class SourceAnalyzerTests
{
    private readonly SourceAnalyzer _analyzer = new(new IngestionOptions { MaxFileBytes = 1000, MaxRaggedRowFraction = 0.1 });

    private SourceAnalysis Analyze(string text, string fileName = "data.csv", DatasetSpec? spec = null) =>
        _analyzer.Analyze(Csv.Stream(text), Encoding.UTF8.GetByteCount(text), fileName, spec);

    [Theory]
    [InlineData("not-csv", "a,b\n1,2\n", "data.xlsx")]
    [InlineData("empty", "", "data.csv")]
    [InlineData("empty", "\n\n", "data.csv")]
    [InlineData("header-only", "a,b\n", "data.csv")]
    [InlineData("invalid-header", "a,a\n1,2\n", "data.csv")]
    [InlineData("not-csv", "{\"a\": 1}\n", "data.csv")]
    [InlineData("formula-injection", "a,b\n1,=SUM(A1)\n", "data.csv")]
    [InlineData("ragged-rows", "a,b\n1,2\n1,2,3\n4\n", "data.csv")]
    public void Analyze_BadFile_RejectsWithProblem(string code, string text, string fileName)
    {
        SourceAnalysis analysis = Analyze(text, fileName);

        Assert.True(analysis.IsRejected);
        Assert.Contains(analysis.Problems, p => p.Code == code);
    }

    [Fact]
    public void Analyze_HeaderWiderThanMaxColumns_RejectsWithTheCount()
    {
        var analyzer = new SourceAnalyzer(new IngestionOptions { MaxColumns = 50 });
        string text = string.Join(',', Enumerable.Range(0, 51).Select(i => $"c{i}")) + "\n" + string.Join(',', Enumerable.Range(0, 51)) + "\n";

        SourceAnalysis analysis = analyzer.Analyze(Csv.Stream(text), Encoding.UTF8.GetByteCount(text), "wide.csv", null);

        IngestProblem problem = Assert.Single(analysis.Problems);
        Assert.Equal("too-many-columns", problem.Code);
        Assert.Contains("51", problem.Message);
    }

    [Fact]
    public void Analyze_OverSizeLimit_RejectsWithoutReading()
    {
        SourceAnalysis analysis = _analyzer.Analyze(Stream.Null, 5000, "big.csv", null);

        Assert.Equal("too-large", Assert.Single(analysis.Problems).Code);
    }

    [Fact]
    public void Analyze_InvalidUtf8_RejectsAsUndecodable()
    {
        byte[] bytes = [.. Encoding.ASCII.GetBytes("a,b\n1,"), 0xC3, 0x28, (byte)'\n'];

        SourceAnalysis analysis = _analyzer.Analyze(new MemoryStream(bytes), bytes.Length, "data.csv", null);

        Assert.Equal("undecodable", Assert.Single(analysis.Problems).Code);
    }

    [Fact]
    public void Analyze_BinaryContent_RejectsAsNotCsv()
    {
        byte[] bytes = [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF, 0xFE, 0x00];

        SourceAnalysis analysis = _analyzer.Analyze(new MemoryStream(bytes), bytes.Length, "data.csv", null);

        Assert.Contains(analysis.Problems, p => p.Code == "not-csv");
    }

    [Fact]
    public void Analyze_LabelNotInHeader_Rejects()
    {
        SourceAnalysis analysis = Analyze("a,b\n1,2\n", spec: new DatasetSpec(Label: "y"));

        Assert.Equal("label-missing", Assert.Single(analysis.Problems).Code);
    }

    [Fact]
    public void Analyze_FewRaggedRows_AcceptsAndCountsThem()
    {
        string text = "a,b\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"{i},{i}\n")) + "1,2,3\n";

        SourceAnalysis analysis = Analyze(text);

        Assert.False(analysis.IsRejected);
        Assert.Equal(1, analysis.RaggedRows);
        Assert.Equal(21, analysis.DataRows);
    }

    [Fact]
    public void Analyze_ValidFile_InfersSchemaTaskAndHash()
    {
        string text = "\uFEFFx, y ,label\n1,a,true\n2,b,false\n3,a,true\n";

        SourceAnalysis analysis = Analyze(text, spec: new DatasetSpec(Label: "label"));

        Assert.False(analysis.IsRejected);
        Assert.Equal(["x", "y", "label"], analysis.Schema!.Columns.Select(c => c.Name));
        Assert.Equal([ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Boolean], analysis.Schema.Columns.Select(c => c.Kind));
        Assert.Equal("binary", analysis.Schema.Task);
        Assert.Equal(64, analysis.Sha256.Length);
        Assert.Equal(3, analysis.DataRows);
    }

    [Fact]
    public void Analyze_Semicolons_DetectsSeparator()
    {
        SourceAnalysis analysis = Analyze("a;b\n1;2\n3;4\n");

        Assert.Equal(";", analysis.Separator);
        Assert.Equal(2, analysis.Schema!.Columns.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Analyze_LineLongerThanTheParserTakes_RejectsWithReadableProblem(bool inHeader)
    {
        // Arrange: 20 million characters without a line break (the parser's limit is 16 Mi characters per row)
        string longRow = new string('7', 20_000_000);
        string text = inHeader ? longRow : "a,b\n1,2\n" + longRow + ",3\n";
        var analyzer = new SourceAnalyzer(new IngestionOptions());

        // Act
        SourceAnalysis analysis = analyzer.Analyze(Csv.Stream(text), text.Length, "data.csv", null);

        // Assert
        IngestProblem problem = Assert.Single(analysis.Problems);
        Assert.Equal("line-too-long", problem.Code);
        Assert.Contains("line break", problem.Message);
    }
}
