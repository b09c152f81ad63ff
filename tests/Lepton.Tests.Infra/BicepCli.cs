using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Lepton.Tests.Infra;

/// <summary>The bicep CLI from the Azure.Bicep.CommandLine.linux-x64 NuGet package: works offline.</summary>
public static class BicepCli
{
    public static string InfraFolder
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "infra-bicep");
                if (File.Exists(Path.Combine(candidate, "main.bicep")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("infra-bicep/main.bicep not found above the test binaries.");
        }
    }

    private static string Executable
    {
        get
        {
            string folder = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCliFolder").Value!;
            string path = Path.Combine(folder, "tools", "bicep");
            // NuGet extracts without the execute bit on some systems; the package is the linux-x64 CLI.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
            }

            return path;
        }
    }

    public static (int ExitCode, string StdOut, string StdErr) Run(IDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = InfraFolder,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static JsonDocument BuildTemplate()
    {
        (int exit, string stdout, string stderr) = Run(null, "build", "main.bicep", "--stdout");
        Assert.True(exit == 0, stderr);
        return JsonDocument.Parse(stdout);
    }

    /// <summary>Parameter values from a .bicepparam file (build-params), with the environment it reads.</summary>
    public static JsonElement BuildParameters(string bicepparamPath, IDictionary<string, string> environment)
    {
        (int exit, string stdout, string stderr) = Run(environment, "build-params", bicepparamPath, "--stdout");
        Assert.True(exit == 0, stderr);
        using JsonDocument wrapper = JsonDocument.Parse(stdout);
        using JsonDocument parameters = JsonDocument.Parse(wrapper.RootElement.GetProperty("parametersJson").GetString()!);
        return parameters.RootElement.GetProperty("parameters").Clone();
    }
}
