using Lepton.Errors;
using Lepton.Training;

namespace Lepton.Tests.Unit.Training;

public class TrainingRequestRulesTests
{
    [Fact]
    public void Check_NoFolds_UsesFive()
    {
        int folds = TrainingRequestRules.Check("churn", null, null, ["sales"], datasetsRequired: true);

        Assert.Equal(5, folds);
    }

    [Theory]
    [InlineData(null, 5, "'name'")]
    [InlineData("Bad Name!", 5, "'name'")]
    [InlineData("churn", 1, "'folds'")]
    [InlineData("churn", 21, "'folds'")]
    public void Check_BadNameOrFolds_BadRequestNamingTheField(string? name, int folds, string field)
    {
        var error = Assert.Throws<LeptonException>(() => TrainingRequestRules.Check(name, folds, null, ["sales"]));

        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Check_ThousandsOfDatasetReferences_RefusedBeforeAnythingIsWritten()
    {
        string[] references = Enumerable.Range(0, 1700).Select(i => $"sales@{i + 1}").ToArray();

        var error = Assert.Throws<LeptonException>(() => TrainingRequestRules.Check("churn", null, null, references));

        Assert.Contains($"at most {TrainingRequestRules.MaxDatasets}", error.Message);
    }

    [Fact]
    public void Check_TooManyCandidatesOrLongReference_BadRequest()
    {
        Assert.Throws<LeptonException>(() => TrainingRequestRules.Check("churn", null, Enumerable.Repeat("lbfgs", 33).ToArray()));
        Assert.Throws<LeptonException>(() => TrainingRequestRules.Check("churn", null, null, [new string('a', 500)]));
    }

    [Fact]
    public void Check_DatasetsRequiredButMissing_BadRequest()
    {
        Assert.Throws<LeptonException>(() => TrainingRequestRules.Check("churn", null, null, [], datasetsRequired: true));
    }
}
