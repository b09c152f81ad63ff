using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class SchemaInferenceTests
{
    private static ColumnStats Column(params string[] values)
    {
        var stats = new ColumnStats("c", seed: 1);
        foreach (string value in values)
        {
            stats.Add(value.AsSpan().Trim());
        }

        return stats;
    }

    [Theory]
    [InlineData(ColumnKind.Numeric, "1", "2.5", "-3e2", "")]
    [InlineData(ColumnKind.Boolean, "true", "False", "yes", "NA")]
    [InlineData(ColumnKind.DateTime, "2024-01-02", "2024-02-03T10:00:00", "2024/03/04")]
    [InlineData(ColumnKind.Categorical, "red", "green", "red", "blue")]
    public void InferKind_TypicalColumn_ReturnsKind(ColumnKind expected, params string[] values)
    {
        // Arrange
        ColumnStats stats = Column(values);

        // Act
        ColumnKind kind = SchemaInference.InferKind(stats);

        // Assert
        Assert.Equal(expected, kind);
    }

    [Fact]
    public void InferKind_NumbersWithFewTypos_StaysNumeric()
    {
        // Arrange: 1 bad value in 40 is under the 5% tolerance.
        string[] values = Enumerable.Range(0, 39).Select(i => i.ToString()).Append("oops").ToArray();

        // Act
        ColumnKind kind = SchemaInference.InferKind(Column(values));

        // Assert
        Assert.Equal(ColumnKind.Numeric, kind);
    }

    [Fact]
    public void InferKind_ManyDistinctWords_IsText()
    {
        // Arrange
        string[] values = Enumerable.Range(0, 200).Select(i => $"note number {i}").ToArray();

        // Act
        ColumnKind kind = SchemaInference.InferKind(Column(values));

        // Assert
        Assert.Equal(ColumnKind.Text, kind);
    }

    [Fact]
    public void InferKind_OnlyMissingValues_IsText()
    {
        Assert.Equal(ColumnKind.Text, SchemaInference.InferKind(Column("", "NA", "null")));
    }

    [Theory]
    [InlineData("binary", ColumnKind.Boolean, "true", "false")]
    [InlineData("binary", ColumnKind.Numeric, "0", "1", "1")]
    [InlineData("regression", ColumnKind.Numeric, "1.5", "2", "3.25")]
    [InlineData("multiclass", ColumnKind.Categorical, "a", "b", "c")]
    public void InferTask_LabelColumn_ReturnsTask(string expected, ColumnKind kind, params string[] values)
    {
        Assert.Equal(expected, SchemaInference.InferTask(kind, Column(values)));
    }

    [Theory]
    [InlineData("multiclass", 3, 50, "{0}")] // iris's 0/1/2
    [InlineData("multiclass", 10, 20, "{0}")] // a digit
    [InlineData("multiclass", 7, 6, "{0}.0")] // whole numbers as a spreadsheet writes them
    [InlineData("regression", 3, 1, "{0}")] // three rows: too few per value to read as classes
    [InlineData("regression", 21, 10, "{0}")] // more values than a class code has
    [InlineData("regression", 5, 20, "{0}.5")] // not whole numbers
    public void InferTask_NumericLabel_WholeNumbersWithFewValuesAreClasses(string expected, int values, int rowsEach, string format)
    {
        string[] cells = [.. Enumerable.Range(0, values * rowsEach).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, i % values))];

        Assert.Equal(expected, SchemaInference.InferTask(ColumnKind.Numeric, Column(cells)));
    }
}
