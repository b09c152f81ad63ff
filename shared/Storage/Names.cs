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
        name is not null && FilePattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    public const string DatasetRule = "lower-case letters, digits and hyphens, 1 to 63 characters, starting with a letter or digit";

    public const string FileRule = "letters, digits, '.', '_', '-' and spaces, up to 200 characters";
}
