using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Training;

namespace Lepton.Tests.Unit.Collaborations;

public class CollaborationPartsTests
{
    [Fact]
    public void EvaluationSplit_SameSeed_IsStratifiedAndReproducible()
    {
        // Arrange: 50 "a", 30 "b", one "c"
        List<string> labels = [.. Enumerable.Repeat("a", 50), .. Enumerable.Repeat("b", 30), "c"];

        // Act
        bool[] first = EvaluationSplit.Assign(labels, 0.2, 7, stratify: true);
        bool[] again = EvaluationSplit.Assign(labels, 0.2, 7, stratify: true);

        // Assert
        Assert.Equal(first, again);
        Assert.Equal(10, Enumerable.Range(0, 50).Count(i => first[i]));
        Assert.Equal(6, Enumerable.Range(50, 30).Count(i => first[i]));
        Assert.False(first[80]);
    }

    [Theory]
    [InlineData(MlTasks.Binary, "accuracy", 0.75)]
    [InlineData(MlTasks.Binary, "auc", 0.5)]
    [InlineData(MlTasks.Multiclass, "microAccuracy", 0.75)]
    [InlineData(MlTasks.Multiclass, "macroAccuracy", 0.5)]
    public void ConstantPredictor_ClassLabels_ScoresTheBestConstant(string task, string metric, double expected)
    {
        string[] labels = ["x", "x", "x", "y"];

        Assert.Equal(expected, ConstantPredictor.Score(task, metric, labels), 12);
    }

    [Fact]
    public void ConstantPredictor_Regression_RmseIsTheSpreadAroundTheMean()
    {
        Assert.Equal(1, ConstantPredictor.Score(MlTasks.Regression, "rmse", ["1", "3", "1", "3"]), 12);
        Assert.Equal(0, ConstantPredictor.Score(MlTasks.Regression, "r2", ["1", "3"]), 12);
    }

    [Fact]
    public void Collaboration_MembersAndAcceptance_StateFollowsTheMembers()
    {
        var now = DateTimeOffset.UnixEpoch;
        var c = new Collaboration("c", "C", "a",
            [new CollaborationMember("a", now, null), new CollaborationMember("b", null, null), new CollaborationMember("d", now, now)],
            new CollaborationTask("y", null, null), CollaborationModes.Pooled, AllocationMethods.Shapley, new CollaborationTerms(10, false, 0, 0.2),
            CollaborationStates.Proposed, 1, now, now);

        Assert.True(c.IsMember("a"));
        Assert.False(c.IsMember("d"));
        Assert.False(c.IsMember("z"));
        Assert.Equal(["b"], c.AwaitingAcceptance);
        Assert.Equal("collaboration:c", c.ModelOwner);
        Assert.Equal("c", ModelOwners.CollaborationOf(c.ModelOwner));
        Assert.Null(ModelOwners.CollaborationOf("a"));
    }
}
