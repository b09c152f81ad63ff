using System.Text.RegularExpressions;

namespace Lepton.Storage;

/// <summary>Rules for names that callers choose and that end up in blob paths or table keys.</summary>
public static partial class Names
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex DatasetPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")]
    private static partial Regex FilePattern();

    public static bool IsValidDataset(string? name) => name is not null && DatasetPattern().IsMatch(name);

    public static bool IsValidFileName(string? name) =>
        name is not null && FilePattern().IsMatch(name) && name == name.TrimEnd() && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>
    /// Names people read (tenants, collaborations): printable text without control or formatting characters (NUL,
    /// right-to-left overrides, zero-width marks can make one name pose as another) and without markup characters.
    /// </summary>
    public static bool IsValidDisplayName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= 200
        && name.All(c => char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
            or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator or System.Globalization.UnicodeCategory.PrivateUse
            or System.Globalization.UnicodeCategory.OtherNotAssigned) && c is not ('<' or '>'));

    public const string DisplayNameRule = "1 to 200 printable characters, without control or formatting characters and without '<' or '>'";

    public const string DatasetRule = "lower-case letters, digits and hyphens, 1 to 63 characters, starting with a letter or digit";

    public const string FileRule = "letters, digits, '.', '_', '-' and spaces (not at the end), up to 200 characters";
}
