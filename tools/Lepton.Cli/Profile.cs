using System.Text.Json;

namespace Lepton.Cli;

/// <summary>Where `lepton login` keeps the endpoint and key: ~/.lepton/profile.json (or $LEPTON_HOME), readable by its owner only.</summary>
public sealed record Profile(string Endpoint, string ApiKey, string? Tenant)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string Directory => Environment.GetEnvironmentVariable("LEPTON_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".lepton");

    public static string PathOf => Path.Combine(Directory, "profile.json");

    public static Profile? Load() => File.Exists(PathOf) ? JsonSerializer.Deserialize<Profile>(File.ReadAllText(PathOf), Json) : null;

    public void Save()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with mode 600: the key is never readable by others, not even for a moment.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(PathOf, System.Text.Encoding.UTF8, options);
        writer.Write(JsonSerializer.Serialize(this, Json));
    }
}
