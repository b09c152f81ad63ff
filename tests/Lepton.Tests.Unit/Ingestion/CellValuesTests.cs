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

    [Theory]
    [InlineData("1,5", "1.5")]
    [InlineData("-0,25", "-0.25")]
    [InlineData("+3,0", "+3.0")]
    [InlineData("2,5e-3", "2.5e-3")]
    [InlineData("12345,678E+2", "12345.678E+2")]
    public void TryWithDecimalPoint_DecimalCommaNumber_WritesItWithAPoint(string cell, string expected)
    {
        Span<char> buffer = stackalloc char[CellValues.MaxNumberChars];

        Assert.True(CellValues.TryWithDecimalPoint(cell, buffer, out int written));
        Assert.Equal(expected, buffer[..written].ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("1.5")]
    [InlineData("1.234,5")]
    [InlineData("1,2,3")]
    [InlineData(",5")]
    [InlineData("1,")]
    [InlineData("-,5")]
    [InlineData("a,b")]
    [InlineData("1,5 kg")]
    [InlineData("1,5e")]
    [InlineData("1,5e+")]
    [InlineData("Berlin, Germany")]
    public void TryWithDecimalPoint_AnythingElse_ReturnsFalse(string cell)
    {
        Span<char> buffer = stackalloc char[CellValues.MaxNumberChars];

        Assert.False(CellValues.TryWithDecimalPoint(cell, buffer, out _));
    }

    [Theory]
    [InlineData(',', false)]
    [InlineData(';', true)]
    [InlineData('\t', true)]
    [InlineData('|', true)]
    public void TryParseNumber_DecimalCommaBySeparator_OnlyWhereTheCommaIsNotTheSeparator(char separator, bool parsed)
    {
        bool result = CellValues.TryParseNumber("0,75", CellValues.AllowsDecimalComma(separator), out double value);

        Assert.Equal(parsed, result);
        Assert.Equal(parsed ? 0.75 : 0, value);
    }

    [Theory]
    [InlineData("3.4e38", true)]
    [InlineData("-3.4e38", true)]
    [InlineData("1e300", false)]
    [InlineData("-1e39", false)]
    public void TryParseNumber_Magnitude_OnlyWhatA32BitFloatHolds(string cell, bool parsed)
    {
        Assert.Equal(parsed, CellValues.TryParseNumber(cell, out _));
        Assert.Equal(!parsed, CellValues.IsBeyondFloat(cell));
        // a large negative number is still a number to a spreadsheet, never a formula
        Assert.False(CellValues.IsFormulaInjection(cell));
    }
}
