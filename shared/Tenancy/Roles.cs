namespace Lepton.Tenancy;

/// <summary>What a tenant API key may do: admin (keys, grants), contributor (uploads, training), consumer (predictions).</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Contributor = "contributor";
    public const string Consumer = "consumer";

    public static IReadOnlyList<string> All { get; } = [Admin, Contributor, Consumer];
}
