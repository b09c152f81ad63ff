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
}
