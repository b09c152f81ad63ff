using System.Diagnostics;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>Durability: state lives in storage, so a host killed mid-run finishes the run after a restart.</summary>
public class RestartTests : IAsyncLifetime
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "lepton-restart-" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        // A failed test can leave the killed host's emulator behind; its pid file says which.
        string pidFile = Path.Combine(_state, "azurite.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out int pid))
        {
            try
            {
                using Process leftover = Process.GetProcessById(pid);
                leftover.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
            }
        }

        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task KillDuringIngest_Restart_CompletesWithNothingLost()
    {
        // Arrange: a persisted host and a file big enough that ingesting it takes a while
        const int rows = 300_000;
        var first = new DevHostProcess(_state, persist: true);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string key, _) = await client.CreateTenantAsync("durable");
        await client.UploadAsync(key, "durable", "big", "big.csv", TestData.GeneratedNumeric(rows));
        string runId = await WaitForRunningAsync(client, key);

        // Act: kill the host without any shutdown, then start a new one on the same storage
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode dataset = await client2.WaitForRunsAsync(key, "durable", "big", timeout: TimeSpan.FromMinutes(3));

        // Assert: the same run finished and published every row exactly once
        JsonNode run = Assert.Single(dataset["runs"]!.AsArray())!;
        Assert.Equal(runId, run["runId"]!.GetValue<string>());
        Assert.Equal("published", run["status"]!.GetValue<string>());
        JsonNode version = Assert.Single(dataset["versions"]!.AsArray())!;
        Assert.Equal(rows, version["rows"]!.GetValue<int>());
        Assert.Contains("Stopping Azurite", second.Output);
    }

    [Fact]
    public async Task Terminate_CleanShutdown_StopsAzurite()
    {
        var host = new DevHostProcess(_state, persist: false);
        await host.StartAsync();
        int azurite = host.AzuritePid!.Value;

        int exitCode = await host.TerminateAsync();

        Assert.Equal(0, exitCode);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(azurite));
        Assert.Contains("Lepton dev host stopped", host.Output);
    }

    private static async Task<string> WaitForRunningAsync(LeptonClient client, string key)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.SendAsync(HttpMethod.Get, "/api/tenants/durable/datasets/big", key);
            if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync())!["runs"]!.AsArray() is [{ } run, ..])
            {
                string runId = run["runId"]!.GetValue<string>();
                // The catalog lists a run a moment before the durable engine has it: 404 until then.
                using HttpResponseMessage runResponse = await client.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", key);
                JsonNode? status = runResponse.IsSuccessStatusCode ? JsonNode.Parse(await runResponse.Content.ReadAsStringAsync()) : null;
                if (status?["status"]!.GetValue<string>() == "Running")
                {
                    Assert.NotEqual("published", status["progress"]?["stage"]?.GetValue<string>());
                    return runId;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The ingest run never reached Running.");
    }
}
