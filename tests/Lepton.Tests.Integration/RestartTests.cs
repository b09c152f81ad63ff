using System.Diagnostics;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>Durability: state lives in storage, so a host killed mid-run finishes the run after a restart.</summary>
[Trait("Category", "Fault")]
[Collection(OwnDevHostCollection.Name)]
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

    [Theory]
    [InlineData("analyzing")]
    [InlineData("cleaning")]
    public async Task KillDuringIngest_Restart_CompletesWithNothingLost(string stage)
    {
        // Arrange: a persisted host and a file big enough that each ingest stage takes a while
        const int rows = 300_000;
        var first = new DevHostProcess(_state, persist: true);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string key, _) = await client.CreateTenantAsync("durable");
        await client.UploadAsync(key, "durable", "big", "big.csv", TestData.GeneratedNumeric(rows));
        string runId = await WaitForRunningAsync(client, key);
        await WaitForStageAsync(client, key, runId, stage);

        // Act: kill the host without any shutdown, then start a new one on the same storage
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode dataset = await client2.WaitForRunsAsync(key, "durable", "big", timeout: TimeSpan.FromMinutes(5));

        // Assert: the same run finished and published every row exactly once
        JsonNode run = Assert.Single(dataset["runs"]!.AsArray())!;
        Assert.Equal(runId, run["runId"]!.GetValue<string>());
        Assert.Equal("published", run["status"]!.GetValue<string>());
        JsonNode version = Assert.Single(dataset["versions"]!.AsArray())!;
        Assert.Equal(rows, version["rows"]!.GetValue<int>());
        Assert.Contains("Stopping Azurite", second.Output);
    }

    [Fact]
    public async Task KillDuringAnalysis_EveryStart_FileIsRejectedInsteadOfRetriedForever()
    {
        // Arrange: a persisted host that gives a step up after one start that never ended (the default is 3), and a
        // file whose analysis takes a while
        var settings = new Dictionary<string, string> { ["Lepton__Runs__MaxInterruptedStarts"] = "1" };
        var first = new DevHostProcess(_state, persist: true, settings);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string key, string account) = await client.CreateTenantAsync("durable");
        await client.UploadAsync(key, "durable", "big", "big.csv", TestData.GeneratedNumeric(300_000));
        string runId = await WaitForRunningAsync(client, key);
        await WaitForStepStartAsync(first, runId, "analyze");

        // Act: the host dies while the step runs (as an input that crashes it would make it), then a new one starts
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true, settings);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode dataset = await client2.WaitForRunsAsync(key, "durable", "big", timeout: TimeSpan.FromMinutes(3));

        // Assert: the run ended with a rejection that says why, instead of analyzing again
        JsonNode run = Assert.Single(dataset["runs"]!.AsArray())!;
        Assert.Equal((runId, "rejected"), (run["runId"]!.GetValue<string>(), run["status"]!.GetValue<string>()));
        Assert.Empty(dataset["versions"]!.AsArray());
        string report = (await second.BlobService(account).GetBlobContainerClient("rejected").GetBlobClient($"big/{runId}/report.txt").DownloadContentAsync())
            .Value.Content.ToString();
        Assert.Contains("[stopped-the-platform]", report);
        Assert.Contains("Analyzing 'big.csv' stopped the platform once", report);
    }

    /// <summary>Waits until the step's start record exists: the step is running, past the point where a kill counts.</summary>
    private static async Task WaitForStepStartAsync(DevHostProcess host, string runId, string step)
    {
        (_, string tableEndpoint, IReadOnlyDictionary<string, string> keys) = host.Storage();
        var table = new Azure.Data.Tables.TableClient(new Uri($"{tableEndpoint}/devstoreaccount1"), "stepattempts",
            new Azure.Data.Tables.TableSharedKeyCredential("devstoreaccount1", keys["devstoreaccount1"]));
        DateTime deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if ((await table.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(runId, step)).HasValue)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Step {step} of run {runId} never started.");
    }

    [Theory]
    [InlineData("evaluating")]
    [InlineData("training final model")]
    public async Task KillDuringTraining_Restart_CompletesWithOneVersion(string stage)
    {
        // Arrange: a persisted host training one network on enough rows that its final model takes seconds
        var first = new DevHostProcess(_state, persist: true);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string key, string runId) = await StartNetworkTrainingAsync(client);
        await WaitForStageAsync(client, key, runId, stage);

        // Act: kill the host in that stage, then start a new one on the same storage
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode run = await client2.WaitForRunAsync(key, runId, TimeSpan.FromMinutes(4));

        // Assert: the run completed (not left running) and registered exactly one version
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode model = await client2.JsonAsync(HttpMethod.Get, "/api/tenants/final/models/net", key);
        Assert.Single(model["versions"]!.AsArray());
    }

    [Fact]
    public async Task KillDuringFinalModel_EveryStart_RunFailsSayingWhyInsteadOfRetryingForever()
    {
        // Arrange: a persisted host that gives a step up after one start that never ended, training one network whose
        // final model takes seconds
        var settings = new Dictionary<string, string> { ["Lepton__Runs__MaxInterruptedStarts"] = "1" };
        var first = new DevHostProcess(_state, persist: true, settings);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string key, string runId) = await StartNetworkTrainingAsync(client);
        await WaitForStepStartAsync(first, runId, "final");

        // Act: the host dies while the final model trains, then a new one starts on the same storage
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true, settings);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode run = await client2.WaitForRunAsync(key, runId, TimeSpan.FromMinutes(4));

        // Assert: the run failed with the reason, and nothing was registered
        Assert.True(run["status"]!.GetValue<string>() == "Failed", run.ToJsonString());
        Assert.Contains("Training the final model (mlp-64) stopped the platform once", run["error"]!.GetValue<string>());
        using HttpResponseMessage model = await client2.SendAsync(HttpMethod.Get, "/api/tenants/final/models/net", key);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, model.StatusCode);
    }

    /// <summary>A tenant with 60,000 rows ingested, training one network (mlp-64, 2 folds) as model 'net'; its final model takes seconds.</summary>
    private static async Task<(string Key, string RunId)> StartNetworkTrainingAsync(LeptonClient client)
    {
        (string key, _) = await client.CreateTenantAsync("final");
        await client.UploadAsync(key, "final", "rows", "rows.csv", TestData.GeneratedNumeric(60_000));
        await client.WaitForRunsAsync(key, "final", "rows", timeout: TimeSpan.FromMinutes(3));
        JsonNode started = await client.JsonAsync(HttpMethod.Post, "/api/tenants/final/models", key,
            new { name = "net", datasets = new[] { "rows" }, label = "label", candidates = new[] { "mlp-64" }, folds = 2 }, System.Net.HttpStatusCode.Accepted);
        return (key, started["runId"]!.GetValue<string>());
    }

    private static async Task WaitForStageAsync(LeptonClient client, string key, string runId, string stage)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(4);
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", key);
            JsonNode? run = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            if ((last = run?["progress"]?["stage"]?.GetValue<string>()) == stage)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Run {runId} never reached '{stage}' (last: {last}).");
    }

    [Fact]
    public async Task KillDuringFederatedRounds_Restart_ResumesAtTheLastRoundAndCountsNothingTwice()
    {
        // Arrange: two hospitals in a federated collaboration on a persisted host, a long run under way
        var first = new DevHostProcess(_state, persist: true);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        string[] members = ["rf-a", "rf-b"];
        var keys = new Dictionary<string, string>();
        foreach ((string member, string file) in members.Zip(new[] { "breast_cancer_hospital_a.csv", "breast_cancer_hospital_b.csv" }))
        {
            keys[member] = (await client.CreateTenantAsync(member)).ApiKey;
            await client.UploadAsync(keys[member], member, "data", "data.csv", TestData.Sample(file));
            await client.WaitForRunsAsync(keys[member], member, "data");
        }

        await client.JsonAsync(HttpMethod.Post, "/api/collaborations", keys["rf-a"],
            new { id = "rf", members, mode = "federated", task = new { label = "malignant", type = "binary" } }, System.Net.HttpStatusCode.Created);
        await client.JsonAsync(HttpMethod.Post, "/api/collaborations/rf/accept", keys["rf-b"], new { });
        foreach (string member in members)
        {
            await client.JsonAsync(HttpMethod.Post, $"/api/tenants/{member}/datasets/data/grants", keys[member],
                new { collaboration = "rf", purposes = new[] { "train", "evaluate" } }, System.Net.HttpStatusCode.Created);
        }

        // Enough rounds that the kill lands mid-run on a fast machine, few enough that a slow CI machine finishes.
        const int rounds = 40;
        string runId = (await client.JsonAsync(HttpMethod.Post, "/api/collaborations/rf/models", keys["rf-a"],
            new { name = "onco", rounds, patience = rounds, localEpochs = 1 }, System.Net.HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        int before = await WaitForRoundsAsync(client, keys["rf-a"], runId, 3);

        // Act: kill the host mid-run, start a new one on the same storage
        await first.KillAsync();
        await using var second = new DevHostProcess(_state, persist: true);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);
        JsonNode run = await client2.WaitForRunAsync(keys["rf-a"], runId, TimeSpan.FromMinutes(6));
        JsonNode model = await client2.JsonAsync(HttpMethod.Get, "/api/collaborations/rf/models/onco", keys["rf-b"]);

        // Assert: every round once, in order, and one registered version
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        Assert.InRange(before, 3, rounds - 1);
        int[] numbers = run["details"]!["Rounds"]!.AsArray().Select(r => r!["Round"]!.GetValue<int>()).ToArray();
        Assert.Equal(Enumerable.Range(1, rounds), numbers);
        JsonNode version = Assert.Single(model["versions"]!.AsArray())!;
        Assert.Equal(rounds, version["federated"]!["rounds"]!.GetValue<int>());
        Assert.Equal(rounds, version["federated"]!["roundsParticipated"]!["rf-b"]!.GetValue<int>());
    }

    [Fact]
    public async Task Terminate_CleanShutdown_StopsAzuriteAndTheTrainer()
    {
        var host = new DevHostProcess(_state, persist: false);
        await host.StartAsync();
        int azurite = host.AzuritePid!.Value;
        int trainer = await host.WaitForTrainerPidAsync();

        int exitCode = await host.TerminateAsync();

        Assert.Equal(0, exitCode);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(azurite));
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(trainer));
        Assert.Contains("Lepton dev host stopped", host.Output);
    }

    [Fact]
    public async Task Terminate_Persisted_RestartKeepsWhatWasWrittenJustBeforeTheStop()
    {
        // Arrange: a persisted host; a key issued the moment before the host is told to stop
        var first = new DevHostProcess(_state, persist: true);
        await first.StartAsync();
        using var client = new LeptonClient(first.BaseUrl);
        (string admin, _) = await client.CreateTenantAsync("kept");
        JsonNode issued = await client.JsonAsync(HttpMethod.Post, "/api/tenants/kept/keys", admin, new { roles = new[] { "consumer" } }, System.Net.HttpStatusCode.Created);
        string lastKey = issued["apiKey"]!.GetValue<string>();

        // Act: a clean stop (Azurite gets SIGTERM and saves before it is stopped), then a new host on the same folder
        int exitCode = await first.TerminateAsync();
        await using var second = new DevHostProcess(_state, persist: true);
        await second.StartAsync();
        using var client2 = new LeptonClient(second.BaseUrl);

        // Assert: the last key works, and the audit chain holds its entry and verifies
        Assert.Equal(0, exitCode);
        using HttpResponseMessage withLastKey = await client2.SendAsync(HttpMethod.Get, "/api/tenants/kept/datasets", lastKey);
        Assert.Equal(System.Net.HttpStatusCode.OK, withLastKey.StatusCode);
        JsonNode verification = await client2.JsonAsync(HttpMethod.Get, "/api/tenants/kept/audit/verify", admin);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
        JsonNode entries = await client2.JsonAsync(HttpMethod.Get, "/api/tenants/kept/audit?max=500", admin);
        Assert.Contains(entries["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "key.issued");
    }

    /// <summary>Waits until the federated run has completed at least <paramref name="rounds"/> rounds; returns how many it had.</summary>
    private static async Task<int> WaitForRoundsAsync(LeptonClient client, string key, string runId, int rounds)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", key);
            JsonNode? run = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            if (run?["details"]?["Rounds"]?.AsArray().Count is { } done && done >= rounds)
            {
                return done;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The federated run never got through its first rounds.");
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
