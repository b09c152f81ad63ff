using System.Globalization;
using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class ColumnHistogramTests
{
    private static ColumnStats Numbers(IEnumerable<double> values)
    {
        var stats = new ColumnStats("x", seed: 7);
        foreach (double value in values)
        {
            stats.Add(value.ToString("R", CultureInfo.InvariantCulture).AsSpan());
        }

        return stats;
    }

    [Fact]
    public void Histogram_FewValues_CountsEachValueOnceBetweenMinAndMax()
    {
        // Arrange: 0..119, ten values per bin
        ColumnStats stats = Numbers(Enumerable.Range(0, 120).Select(i => (double)i));

        // Act
        IReadOnlyList<HistogramBin> bins = stats.Histogram();

        // Assert
        Assert.Equal(ColumnStats.HistogramBins, bins.Count);
        Assert.Equal(0, bins[0].Lower);
        Assert.Equal(119, bins[^1].Upper);
        Assert.Equal(120, bins.Sum(b => b.Count));
        Assert.Equal(10, bins[0].Count);
        Assert.Equal(10, bins[^1].Count);
    }

    [Fact]
    public void Histogram_ConstantColumn_IsOneBinWithEveryValue()
    {
        // Arrange
        ColumnStats stats = Numbers(Enumerable.Repeat(4.2, 30));

        // Act
        IReadOnlyList<HistogramBin> bins = stats.Histogram();

        // Assert
        HistogramBin bin = Assert.Single(bins);
        Assert.Equal(new HistogramBin(4.2, 4.2, 30), bin);
    }

    [Fact]
    public void Histogram_MoreValuesThanTheReservoir_ScalesTheSampleToTheColumnsCount()
    {
        // Arrange: 60,000 values, uniform over [0, 1), with a few far outliers setting the range
        var random = new Random(11);
        ColumnStats stats = Numbers(Enumerable.Range(0, 60_000).Select(_ => random.NextDouble()).Append(12).Append(-12));

        // Act
        IReadOnlyList<HistogramBin> bins = stats.Histogram();

        // Assert: bins span the exact range, sum to the count within rounding, and the mass sits in the middle bins
        Assert.Equal(-12, bins[0].Lower);
        Assert.Equal(12, bins[^1].Upper);
        Assert.InRange(bins.Sum(b => b.Count), 60_002 - ColumnStats.HistogramBins, 60_002 + ColumnStats.HistogramBins);
        Assert.InRange(bins[6].Count, 57_000, 60_002);
    }

    [Fact]
    public void ToProfile_CategoricalColumn_HasNoHistogram()
    {
        // Arrange
        var stats = new ColumnStats("c", seed: 1);
        foreach (string value in new[] { "red", "green", "red" })
        {
            stats.Add(value.AsSpan());
        }

        // Act
        ColumnProfile profile = stats.ToProfile(ColumnKind.Categorical);

        // Assert
        Assert.Null(profile.Histogram);
    }
}
