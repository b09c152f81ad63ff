using Lepton.Storage;

namespace Lepton.Tests.Unit.Storage;

public class NamesTests
{
    [Theory]
    [InlineData("Hospital A")]
    [InlineData("Hôpital Saint-Éloi (Paris)")]
    [InlineData("病院")]
    public void IsValidDisplayName_OrdinaryNames_Accepted(string name) => Assert.True(Names.IsValidDisplayName(name));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Acme\u0000Bank")]
    [InlineData("Acme\u202Eknab")]
    [InlineData("Acme\u200BBank")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("line\nbreak")]
    public void IsValidDisplayName_ControlFormattingOrMarkup_Refused(string name) => Assert.False(Names.IsValidDisplayName(name));

    [Fact]
    public void IsValidDisplayName_TooLong_Refused() => Assert.False(Names.IsValidDisplayName(new string('a', 201)));

    [Theory]
    [InlineData("data.csv", true)]
    [InlineData("my data.csv", true)]
    [InlineData("data.csv ", false)]
    [InlineData("../data.csv", false)]
    public void IsValidFileName_TrailingSpaceOrTraversal_Refused(string name, bool valid) => Assert.Equal(valid, Names.IsValidFileName(name));
}
