using System.Text.RegularExpressions;

namespace Lepton.Tenancy;

public sealed record Tenant(string Id, string Name, string StorageAccount, DateTimeOffset CreatedAt, bool Disabled);

public static partial class TenantIds
{
    private static readonly HashSet<string> Reserved =
        ["admin", "api", "platform", "system", "lepton", "tenants", "health", "events", "runs", "collaborations", "root", "default"];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$")]
    private static partial Regex Pattern();

    public const string Rule = "3 to 24 lower-case letters, digits or hyphens, starting and ending with a letter or digit";

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id) && !Reserved.Contains(id);

    public static bool IsReserved(string id) => Reserved.Contains(id);
}
