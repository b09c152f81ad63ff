using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class CellValuesTests
{
    [Theory]
    [InlineData("")]
    [InlineData("NA")]
    [InlineData("n/a")]
    [InlineData("NULL")]
    [InlineData("NaN")]
    [InlineData("?")]
    [InlineData("#N/A")]
    public void IsMissing_MissingToken_ReturnsTrue(string cell) => Assert.True(CellValues.IsMissing(cell));

    [Theory]
    [InlineData("0")]
    [InlineData("nana")]
    [InlineData("none of these")]
    [InlineData("-12.5")]
    [InlineData("-1")]
    [InlineData("---")]
    [InlineData("?!")]
    [InlineData("#n/a/b")]
    public void IsMissing_Value_ReturnsFalse(string cell) => Assert.False(CellValues.IsMissing(cell));

    [Fact]
    public void IsMissing_EveryListedTokenInAnyCase_ReturnsTrue()
    {
        // The check settles most cells by their first characters; every token the rules list must still be recognized.
        Assert.All(CellValues.MissingTokens, token =>
        {
            Assert.True(CellValues.IsMissing(token), token);
            Assert.True(CellValues.IsMissing(token.ToUpperInvariant()), token);
        });
    }

    [Theory]
    [InlineData("=SUM(A1:A2)")]
    [InlineData("@cmd")]
    [InlineData("+HYPERLINK(\"x\")")]
    [InlineData("-2+3")]
    public void IsFormulaInjection_FormulaCell_ReturnsTrue(string cell) => Assert.True(CellValues.IsFormulaInjection(cell));

    [Theory]
    [InlineData("-12.5")]
    [InlineData("+3")]
    [InlineData("-")]
    [InlineData("plain text")]
    public void IsFormulaInjection_NumberOrText_ReturnsFalse(string cell) => Assert.False(CellValues.IsFormulaInjection(cell));

    [Fact]
    public void TryParseNumber_Infinity_IsRejected() => Assert.False(CellValues.TryParseNumber("Infinity", out _));
}
