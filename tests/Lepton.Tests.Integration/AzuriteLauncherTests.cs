using System.Diagnostics;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>
/// The script the dev host starts Azurite through (functions/Lepton.DevHost/Storage/start-azurite.js): its LokiJS and
/// checksum corrections and its deferred telemetry SDK, checked by Node's test runner against LokiJS and Azurite
/// unchanged (Azurite/start-azurite.test.js).
/// </summary>
public sealed class AzuriteLauncherTests
{
    [Fact]
    public async Task StartAzuriteCorrections_NodeTests_SameResultsAsUnchanged()
    {
        // Arrange
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = DevHostProcess.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "--test", Path.Combine("tests", "Lepton.Tests.Integration", "Azurite", "start-azurite.test.js") },
        };

        // Act
        using Process node = Process.Start(start)!;
        Task<string> output = node.StandardOutput.ReadToEndAsync();
        Task<string> errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

        // Assert
        string report = await output + await errors;
        Assert.True(node.ExitCode == 0, report);
        Assert.Contains("# pass 5", report);
    }
}
