using System.Globalization;
using csFastFloat;

namespace Lepton.Ingestion;

/// <summary>How single cells are read: missing-value tokens, types, and spreadsheet-formula detection.</summary>
public static class CellValues
{
    /// <summary>Tokens that mean "no value" in exported data, compared case-insensitively after trimming.</summary>
    public static readonly IReadOnlyList<string> MissingTokens =
        ["", "na", "n/a", "nan", "null", "none", "nil", "?", "-", "--", "#n/a", "missing", "undefined"];

    public static bool IsMissing(ReadOnlySpan<char> trimmed)
    {
        if (trimmed.IsEmpty)
        {
            return true;
        }

        // Hot path: every token starts with one of these characters, and the only ones starting with '-' are "-" and
        // "--", so a number (negative ones included) is settled by its first one or two characters.
        switch (trimmed[0])
        {
            case '-':
                return trimmed.Length == 1 || trimmed is "--";
            case '?':
                return trimmed.Length == 1;
            case '#':
                break;
            default:
                if (trimmed.Length > 9 || (trimmed[0] | 0x20) is not ('n' or 'm' or 'u'))
                {
                    return false;
                }

                break;
        }

        foreach (string token in MissingTokens)
        {
            if (trimmed.Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What a trimmed cell is to a profile: missing, a number (with its value), or other text.</summary>
    internal static CellOp Kind(ReadOnlySpan<char> trimmed, out double number)
    {
        number = 0;
        return IsMissing(trimmed) ? CellOp.Missing : TryParseNumber(trimmed, out number) ? CellOp.Numeric : CellOp.Text;
    }

    /// <summary>
    /// Invariant-culture decimal or exponent notation within a 32-bit float's range, which is what models take:
    /// infinities, NaN and larger magnitudes (1e300) are not numbers here — as values they became infinite features and
    /// overflowed the profile's statistics. fast_float (csFastFloat) parses several times faster than double.TryParse
    /// and rounds identically; the whole cell must be consumed.
    /// </summary>
    public static bool TryParseNumber(ReadOnlySpan<char> trimmed, out double value) =>
        TryParseDouble(trimmed, out value) && Math.Abs(value) <= float.MaxValue;

    /// <summary>A number in the notation <see cref="TryParseNumber(ReadOnlySpan{char}, out double)"/> reads, too large for a 32-bit float.</summary>
    public static bool IsBeyondFloat(ReadOnlySpan<char> trimmed) => TryParseDouble(trimmed, out double value) && Math.Abs(value) > float.MaxValue;

    private static bool TryParseDouble(ReadOnlySpan<char> trimmed, out double value)
    {
        if (trimmed.IsEmpty || !(char.IsAsciiDigit(trimmed[0]) || trimmed[0] is '-' or '+' or '.'))
        {
            value = 0;
            return false;
        }

        return FastDoubleParser.TryParseDouble(trimmed, out int consumed, out value) && consumed == trimmed.Length && double.IsFinite(value);
    }

    /// <summary>
    /// Whether numbers in a file with this separator may carry a decimal comma: spreadsheets in most of Europe export
    /// "1,5" in files separated by semicolons (or tabs), where a comma cannot be the separator. In a comma-separated file
    /// a comma inside a number is never a decimal mark.
    /// </summary>
    public static bool AllowsDecimalComma(char separator) => separator != ',';

    /// <summary>
    /// Writes a number given with a decimal comma ("1,5", "-0,25", "2,5e-3") with a decimal point into <paramref name="destination"/>;
    /// false for anything else (text with a comma, thousands groups like "1.234,5", more than one comma).
    /// </summary>
    public static bool TryWithDecimalPoint(ReadOnlySpan<char> trimmed, Span<char> destination, out int written)
    {
        written = 0;
        int comma = trimmed.IndexOf(',');
        if (comma < 0 || trimmed.Length > destination.Length)
        {
            return false;
        }

        int start = trimmed[0] is '+' or '-' ? 1 : 0;
        int end = trimmed.IndexOfAny('e', 'E');
        end = end < 0 ? trimmed.Length : end;
        if (comma == start || comma == end - 1 || trimmed[start..comma].ContainsAnyExceptInRange('0', '9')
            || trimmed[(comma + 1)..end].ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        if (end < trimmed.Length)
        {
            ReadOnlySpan<char> exponent = trimmed[(end + 1)..];
            exponent = exponent.Length > 0 && exponent[0] is '+' or '-' ? exponent[1..] : exponent;
            if (exponent.IsEmpty || exponent.ContainsAnyExceptInRange('0', '9'))
            {
                return false;
            }
        }

        trimmed.CopyTo(destination);
        destination[comma] = '.';
        written = trimmed.Length;
        return true;
    }

    /// <summary>A number, or with <paramref name="decimalComma"/> also one written with a decimal comma (<see cref="TryWithDecimalPoint"/>).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> trimmed, bool decimalComma, out double value)
    {
        if (TryParseNumber(trimmed, out value))
        {
            return true;
        }

        Span<char> point = stackalloc char[MaxNumberChars];
        return decimalComma && TryWithDecimalPoint(trimmed, point, out int length) && TryParseNumber(point[..length], out value);
    }

    /// <summary>Longer cells are not read as numbers with a decimal comma: no number in a data file is written with more digits.</summary>
    public const int MaxNumberChars = 64;

    public static bool TryParseBoolean(ReadOnlySpan<char> trimmed, out bool value)
    {
        if (trimmed.Equals("true", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("yes", StringComparison.OrdinalIgnoreCase) ||
            trimmed.Equals("t", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("y", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        if (trimmed.Equals("false", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("no", StringComparison.OrdinalIgnoreCase) ||
            trimmed.Equals("f", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("n", StringComparison.OrdinalIgnoreCase))
        {
            value = false;
            return true;
        }

        value = false;
        return false;
    }

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
        "yyyy/MM/dd", "yyyy/MM/dd HH:mm:ss",
    ];

    /// <summary>ISO 8601 style dates only: ambiguous day/month orders are not guessed.</summary>
    public static bool TryParseDateTime(ReadOnlySpan<char> trimmed, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(trimmed, DateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>
    /// A cell a spreadsheet would run as a formula (CSV injection): it starts with '=', '@', a tab or carriage return,
    /// or with '+' / '-' without being a number.
    /// </summary>
    public static bool IsFormulaInjection(ReadOnlySpan<char> trimmed)
    {
        if (trimmed.IsEmpty)
        {
            return false;
        }

        return trimmed[0] switch
        {
            '=' or '@' or '\t' or '\r' => true,
            '+' or '-' => trimmed.Length > 1 && !TryParseDouble(trimmed, out _),
            _ => false,
        };
    }

    public static string FormatNumber(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string FormatBoolean(bool value) => value ? "true" : "false";

    public static string FormatDateTime(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);
}
