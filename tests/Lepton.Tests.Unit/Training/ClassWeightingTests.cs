using Lepton.Errors;
using Lepton.Training;

namespace Lepton.Tests.Unit.Training;

public class ClassWeightingTests
{
    [Fact]
    public void Weights_SkewedLabels_GiveEveryClassTheSameTotalAndRowsAnAverageOfOne()
    {
        string[] labels = [.. Enumerable.Repeat("a", 6), .. Enumerable.Repeat("b", 3), "c"];

        Dictionary<string, float> weights = ClassWeighting.Weights(labels);

        // n / (k · rows of the class): 10 / (3 · 6), 10 / (3 · 3), 10 / (3 · 1)
        Assert.Equal(10 / 18f, weights["a"], 5);
        Assert.Equal(10 / 9f, weights["b"], 5);
        Assert.Equal(10 / 3f, weights["c"], 5);
        Assert.Equal(1.0, labels.Average(l => weights[l]), 5);
    }

    [Theory]
    [InlineData(null, "binary", null)]
    [InlineData("none", "multiclass", null)]
    [InlineData("balanced", "binary", "balanced")]
    [InlineData("Balanced", null, "balanced")]
    public void Parse_AllowedSettings_AreNormalized(string? value, string? task, string? expected)
    {
        Assert.Equal(expected, ClassWeighting.Parse(value, task));
    }

    [Theory]
    [InlineData("inverse", "binary", "\"balanced\" or \"none\"")]
    [InlineData("balanced", "regression", "applies to classification")]
    public void Parse_WrongSettingOrTask_IsABadRequestSayingWhy(string value, string task, string expected)
    {
        LeptonException error = Assert.Throws<LeptonException>(() => ClassWeighting.Parse(value, task));

        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.Contains(expected, error.Message);
    }
}
