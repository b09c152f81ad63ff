using System.Text;
using Lepton.Configuration;
using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class DatasetCleanerTests
{
    private static readonly IngestionOptions Options = new() { MaxRaggedRowFraction = 0.5 };

    private static (CleaningResult Result, string[] Output) Clean(DatasetSpec? spec, params string[] lines)
    {
        SourceAnalysis analysis = new SourceAnalyzer(Options).Analyze(Csv.Lines(lines), 100, "data.csv", spec);
        Assert.False(analysis.IsRejected, string.Join("; ", analysis.Problems.Select(p => p.Message)));
        using var output = new MemoryStream();
        CleaningResult result = new DatasetCleaner().Clean(Csv.Lines(lines), output, analysis);
        string[] written = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r')).ToArray();
        return (result, written);
    }

    [Fact]
    public void Clean_CellsWithSpaces_TrimsAndCounts()
    {
        (CleaningResult result, string[] output) = Clean(null, "a,b", " 1 ,x ", "2,y");

        Assert.Equal(["a,b", "1,x", "2,y"], output);
        Assert.Equal(2, result.Counts.CellsTrimmed);
    }

    [Fact]
    public void Clean_SemicolonsWithDecimalCommas_NumbersCuratedWithAPoint()
    {
        // Arrange: a spreadsheet export from a locale that writes "1,5"; a text column keeps its commas
        string[] lines = ["weight;city;label", "1,5;Berlin, Mitte;yes", "-0,25;Paris;no", "2;Wien;yes", "3,75e1;Roma;no"];
        SourceAnalysis analysis = new SourceAnalyzer(Options).Analyze(Csv.Lines(lines), 100, "data.csv", null);

        // Act
        (CleaningResult result, string[] output) = Clean(null, lines);

        // Assert
        Assert.Equal(ColumnKind.Numeric, analysis.Schema!.Columns[0].Kind);
        Assert.Equal(["weight,city,label", "1.5,\"Berlin, Mitte\",true", "-0.25,Paris,false", "2,Wien,true", "3.75e1,Roma,false"], output);
        Assert.Equal(4, result.RowsOut);
    }

    [Fact]
    public void Clean_NumberBeyondAFloat_CoercedAsInvalidAndTheProfileStaysFinite()
    {
        // Arrange: 1e300 is a finite double, but no model input holds it, and its square overflowed the statistics
        string[] lines = ["a,b", .. Enumerable.Range(1, 50).Select(i => $"{i},r{i}"), "1e300,z", "-1e300,v"];
        SourceAnalysis analysis = new SourceAnalyzer(Options).Analyze(Csv.Lines(lines), 100, "data.csv", null);

        // Act
        (CleaningResult result, string[] output) = Clean(null, lines);

        // Assert: the column is numeric, the two cells are invalid values imputed with the median, every statistic finite
        Assert.Equal(ColumnKind.Numeric, analysis.Schema!.Columns[0].Kind);
        Assert.Equal(2, result.Counts.Columns["a"].InvalidValuesCoerced);
        Assert.Equal(["25.5,z", "25.5,v"], output[^2..]);
        // the platform writes profiles as JSON, which has no infinity: serializing throws if a statistic overflowed
        Assert.All(analysis.RawProfile.Concat(result.Profile), p => Assert.NotEmpty(System.Text.Json.JsonSerializer.Serialize(p)));
    }

    [Fact]
    public void Clean_CommasWithQuotedDecimalCommas_StayText()
    {
        // Arrange: in a comma-separated file a comma inside a number is never a decimal mark
        (_, string[] output) = Clean(null, "weight,label", "\"1,5\",yes", "\"2,5\",no", "\"3,5\",yes");

        // Assert
        Assert.Equal("\"1,5\",true", output[1]);
    }

    [Fact]
    public void Clean_ExactDuplicateRows_KeepsFirstOnly()
    {
        (CleaningResult result, string[] output) = Clean(null, "a,b", "1,x", "1,x", " 1 , x", "2,y");

        Assert.Equal(3, output.Length);
        Assert.Equal(2, result.Counts.DuplicateRowsDropped);
        Assert.Equal(4, result.RowsIn);
        Assert.Equal(2, result.RowsOut);
    }

    [Fact]
    public void Clean_MissingNumeric_ImputesMedian()
    {
        (CleaningResult result, string[] output) = Clean(null, "a,b", "1,x", "NA,y", "3,z", "10,w");

        Assert.Equal("3,y", output[2]);
        Assert.Equal(1, result.Counts.ValuesImputed);
        Assert.Equal(1, result.Counts.MissingTokensNormalized);
        Assert.Equal(1, result.Counts.Columns["a"].ValuesImputed);
    }

    [Fact]
    public void Clean_MissingCategorical_ImputesMostFrequent()
    {
        (_, string[] output) = Clean(null, "a,b", "1,red", "2,red", "3,blue", "4,");

        Assert.Equal("4,red", output[4]);
    }

    [Fact]
    public void Clean_FarOutlier_ClipsToUpperFence()
    {
        // Arrange: Q1 = 2, Q3 = 4, IQR = 2, upper fence with k = 3 is 10.
        string[] rows = ["a", "1", "2", "2", "3", "3", "4", "4", "5", "1000"];

        // Act
        (CleaningResult result, string[] output) = Clean(null, rows);

        // Assert
        Assert.Equal(1, result.Counts.OutliersClipped);
        Assert.Equal("10", output[^1]);
    }

    [Fact]
    public void Clean_LabelOutlier_IsNeverClipped()
    {
        (CleaningResult result, string[] output) = Clean(new DatasetSpec(Label: "y"), "x,y", "1,1", "2,2", "2,2", "3,3", "3,3", "4,4", "4,4", "5,5", "6,1000");

        Assert.Equal(0, result.Counts.OutliersClipped);
        Assert.Equal("6,1000", output[^1]);
    }

    [Fact]
    public void Clean_RowWithoutLabel_IsDropped()
    {
        (CleaningResult result, string[] output) = Clean(new DatasetSpec(Label: "y"), "x,y", "1,true", "2,", "3,false");

        Assert.Equal(1, result.Counts.MissingLabelRowsDropped);
        Assert.DoesNotContain("2,", output);
    }

    [Fact]
    public void Clean_RaggedRow_IsDropped()
    {
        (CleaningResult result, string[] output) = Clean(null, "a,b", "1,x", "2,y,extra", "3,z");

        Assert.Equal(1, result.Counts.RaggedRowsDropped);
        Assert.Equal(["a,b", "1,x", "3,z"], output);
    }

    [Fact]
    public void Clean_InvalidNumber_BecomesMissingAndIsImputed()
    {
        string[] rows = new[] { "a" }.Concat(Enumerable.Range(1, 39).Select(i => i.ToString())).Append("oops").ToArray();

        (CleaningResult result, string[] output) = Clean(null, rows);

        Assert.Equal(1, result.Counts.InvalidValuesCoerced);
        Assert.Equal("20", output[^1]);
    }

    [Fact]
    public void Clean_Booleans_AreNormalized()
    {
        (_, string[] output) = Clean(null, "a", "Yes", "n", "TRUE");

        Assert.Equal(["a", "true", "false"], output);
    }

    [Fact]
    public void Clean_Output_IsProfiled()
    {
        (CleaningResult result, _) = Clean(null, "a,b", "1,x", "3,y");

        ColumnProfile a = result.Profile.Single(p => p.Name == "a");
        Assert.Equal(2, a.Count);
        Assert.Equal(2.0, a.Mean);
        Assert.Equal(1.0, a.Min);
        Assert.Equal(3.0, a.Max);
    }

    [Fact]
    public void Clean_QuotedCellWithSeparator_IsEscapedInOutput()
    {
        (_, string[] output) = Clean(null, "a,b", "1,\"x, y\"", "2,z");

        Assert.Equal("1,\"x, y\"", output[1]);
    }

    [Fact]
    public void Clean_ManyRowsAcrossBatches_WritesEveryRowInOrderAndProfilesAll()
    {
        // Arrange: more rows than one hand-over between the reading and the writing thread, with a missing value and a
        // duplicate in the middle
        string[] lines = ["id,x,label", .. Enumerable.Range(0, 5000).Select(i => i == 2500 ? "2500,,b" : $"{i},{i % 97}.5,{(i % 3 == 0 ? "a" : "b")}"), "7,7.5,b"];

        // Act
        (CleaningResult result, string[] output) = Clean(null, lines);

        // Assert: the rows in their order, the duplicate gone, the imputed cell written and profiled
        Assert.Equal(5001, output.Length);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), output.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal((5001, 5000, 1, 1), (result.RowsIn, result.RowsOut, result.Counts.DuplicateRowsDropped, result.Counts.ValuesImputed));
        Assert.All(result.Profile, column => Assert.Equal(5000, column.Count));
    }

    [Fact]
    public void Clean_OutputFailsWhileWriting_ThrowsTheWriteErrorAndStops()
    {
        // Arrange: enough rows that the writer fails while the reader still reads
        string[] lines = ["id,x", .. Enumerable.Range(0, 20_000).Select(i => $"{i},{i}.25")];
        SourceAnalysis analysis = new SourceAnalyzer(Options).Analyze(Csv.Lines(lines), 100, "data.csv", null);
        using var output = new FailingStream(failAfterBytes: 10_000);

        // Act
        IOException error = Assert.Throws<IOException>(() => new DatasetCleaner().Clean(Csv.Lines(lines), output, analysis));

        // Assert: the storage error, not the reader's cancellation
        Assert.Equal("the disk is full", error.Message);
    }

    /// <summary>An output that takes some bytes and then fails every write, as storage that goes away does.</summary>
    private sealed class FailingStream(int failAfterBytes) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Length + buffer.Length > failAfterBytes)
            {
                throw new IOException("the disk is full");
            }

            base.Write(buffer);
        }
    }
}
