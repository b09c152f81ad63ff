using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues.Models;
using Lepton.Storage;
using Lepton.Tests.Integration.Infrastructure;
using Lepton.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Integration;

/// <summary>The heavy path: network candidates trained by the trainer worker (the dev host's child process) through the queue.</summary>
[Collection(DevHostCollection.Name)]
public class HeavyTrainingTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    private async Task<(string Key, string RunId)> TrainHeavyAsync(string tenant, string[] candidates)
    {
        (string key, _) = await _client.CreateTenantAsync(tenant);
        await _client.UploadAsync(key, tenant, "bc", "a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await _client.WaitForRunsAsync(key, tenant, "bc");
        string runId = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/models", key,
            new { name = "bc", datasets = new[] { "bc" }, label = "malignant", folds = 3, candidates, heavy = true }, HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        return (key, runId);
    }

    [Fact]
    public async Task Train_HeavyNetwork_TheWorkerTrainsItAndTheRegisteredOnnxIsTheWorkers()
    {
        // Arrange + Act: one network candidate, sent to the worker
        (string key, string runId) = await TrainHeavyAsync("heavy-only", ["mlp-64"]);
        JsonNode run = await _client.WaitForRunAsync(key, runId);
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/heavy-only/models/bc", key);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        HeavyTrainingResult worker = (await platform.GetRequiredService<ModelRegistry>()
            .Artifact(ModelRegistry.ArtifactPrefix("heavy-only", "bc", runId) + "heavy/mlp-64/result.json").DownloadContentAsync()).Value.Content
            .ToObjectFromJson<HeavyTrainingResult>(LeptonJson.Options)!;
        string[] lines = TestData.Lines(TestData.Sample("breast_cancer_hospital_a.csv"));
        string[] header = lines[0].Split(',');
        var row = header.Zip(lines[1].Split(',')).Where(p => p.First != "malignant")
            .ToDictionary(p => p.First, p => (object)double.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture));
        JsonNode predicted = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/heavy-only/models/bc/predict", key, new { rows = new[] { row } });

        // Assert: every fold and the final model came from the worker, and the served ONNX is the one it wrote and checked
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = model["versions"]![0]!;
        Assert.StartsWith("cpu", worker.Device);
        Assert.Equal(3, worker.Folds.Count(f => f.Error is null));
        Assert.Equal(worker.Artifact!.OnnxSha256, version["onnxSha256"]!.GetValue<string>());
        Assert.InRange(worker.Artifact.ParityMaxDifference, 0, 1e-3);
        Assert.Equal(3, version["leaderboard"]![0]!["foldsSucceeded"]!.GetValue<int>());
        Assert.NotNull(predicted["predictions"]![0]!["label"]);
    }

    [Fact]
    public async Task Complete_DuplicateOrLateCompletion_ChangesNothing()
    {
        // Arrange: a finished heavy run, and the worker's own completion
        (string key, string runId) = await TrainHeavyAsync("heavy-dup", ["mlp-64", "lbfgs-lr-l2-1"]);
        JsonNode run = await _client.WaitForRunAsync(key, runId);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        string result = (await platform.GetRequiredService<ModelRegistry>()
            .Artifact(ModelRegistry.ArtifactPrefix("heavy-dup", "bc", runId) + "heavy/mlp-64/result.json").DownloadContentAsync()).Value.Content.ToString();

        // Act: the callback arrives again, twice
        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage again = await _client.SendAsync(HttpMethod.Post, $"/api/training/jobs/{runId}/complete?code={DevHostProcess.FunctionKey}", null, rawBody: result);
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }

        using HttpResponseMessage withoutKey = await _client.SendAsync(HttpMethod.Post, $"/api/training/jobs/{runId}/complete", null, rawBody: result);
        JsonNode after = await _client.WaitForRunAsync(key, runId);
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/heavy-dup/models/bc", key);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(run["result"]!.ToJsonString(), after["result"]!.ToJsonString());
        Assert.Single(model["versions"]!.AsArray());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Worker_MessageThatIsNoJob_GoesToThePoisonQueueWithItsReason()
    {
        // Arrange
        var queue = fixture.Host.PlatformQueue("training");
        var poison = fixture.Host.PlatformQueue("training-poison");
        await queue.CreateIfNotExistsAsync();
        string marker = "not-a-job-" + Guid.NewGuid().ToString("N")[..8];

        // Act
        await queue.SendMessageAsync(marker);
        string? found = null;
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(60); found is null && DateTime.UtcNow < deadline; await Task.Delay(500))
        {
            PeekedMessage[] messages = (await poison.PeekMessagesAsync(32)).Value;
            found = messages.Select(m => m.MessageText).FirstOrDefault(t => t.Contains(marker, StringComparison.Ordinal));
        }

        // Assert
        Assert.NotNull(found);
        Assert.Contains("not a training job", JsonDocument.Parse(found!).RootElement.GetProperty("reason").GetString());
    }
}

/// <summary>A worker that never answers (here: it listens on another queue, as a crashed or lost job would look): the run's timer decides.</summary>
[Trait("Category", "Fault")]
[Collection(OwnDevHostCollection.Name)]
public sealed class HeavyTrainingTimeoutTests() : OwnDevHost(new Dictionary<string, string>
{
    ["Lepton__HeavyTraining__Timeout"] = "00:00:08",
    ["Lepton__Trainer__QueueName"] = "nobody-listens-here",
})
{
    [Fact]
    public async Task Train_WorkerNeverAnswers_TimeoutFailsThatCandidateDeadLettersItsJobAndTheOthersWin()
    {
        // Arrange
        using var client = new LeptonClient(Host.BaseUrl);
        (string key, _) = await client.CreateTenantAsync("heavy-late");
        await client.UploadAsync(key, "heavy-late", "bc", "a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await client.WaitForRunsAsync(key, "heavy-late", "bc");

        // Act
        string runId = (await client.JsonAsync(HttpMethod.Post, "/api/tenants/heavy-late/models", key,
            new { name = "bc", datasets = new[] { "bc" }, label = "malignant", folds = 3, candidates = new[] { "mlp-64", "lbfgs-lr-l2-1" }, heavy = true },
            HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        JsonNode run = await client.WaitForRunAsync(key, runId, TimeSpan.FromMinutes(2));
        JsonNode model = await client.JsonAsync(HttpMethod.Get, "/api/tenants/heavy-late/models/bc", key);
        PeekedMessage[] poisoned = (await Host.PlatformQueue("training-poison").PeekMessagesAsync(32)).Value;

        // Assert: the run finished with the in-process candidate; the heavy one failed with the reason; its job is dead-lettered
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = model["versions"]![0]!;
        Assert.Equal("lbfgs-lr-l2-1", version["configuration"]!["id"]!.GetValue<string>());
        JsonNode heavy = version["leaderboard"]!.AsArray().Single(e => e!["candidateId"]!.GetValue<string>() == "mlp-64")!;
        Assert.Contains("did not finish", heavy["error"]!.GetValue<string>());
        Assert.Contains(poisoned, m => m.MessageText.Contains($"{runId}-mlp-64", StringComparison.Ordinal) && m.MessageText.Contains("did not finish", StringComparison.Ordinal));
    }
}

/// <summary>The worker dies in the middle of a job: the run's timer fails that candidate, the others go on, and the late retry changes nothing.</summary>
[Trait("Category", "Fault")]
[Collection(OwnDevHostCollection.Name)]
public sealed class HeavyTrainingWorkerKilledTests() : OwnDevHost(new Dictionary<string, string> { ["Lepton__HeavyTraining__Timeout"] = "00:00:20" })
{
    [Fact]
    public async Task Train_WorkerKilledMidJob_TimeoutReportsItAndTheOtherCandidatesComplete()
    {
        // Arrange: enough rows that the network's job runs for a while
        using var client = new LeptonClient(Host.BaseUrl);
        (string key, _) = await client.CreateTenantAsync("heavy-kill");
        await client.UploadAsync(key, "heavy-kill", "big", "big.csv", TestData.GeneratedNumeric(60_000));
        await client.WaitForRunsAsync(key, "heavy-kill", "big", timeout: TimeSpan.FromMinutes(2));
        string runId = (await client.JsonAsync(HttpMethod.Post, "/api/tenants/heavy-kill/models", key,
            new { name = "big", datasets = new[] { "big" }, label = "label", folds = 3, candidates = new[] { "mlp-128x64", "lbfgs-lr-l2-1" }, heavy = true },
            HttpStatusCode.Accepted))["runId"]!.GetValue<string>();

        // Act: kill the worker once it has started the job
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(60); !Host.Output.Contains("training mlp-128x64", StringComparison.Ordinal); await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, "the worker never started the job");
        }

        int trainer = int.Parse(await File.ReadAllTextAsync(Path.Combine(State, "trainer.pid")));
        System.Diagnostics.Process.GetProcessById(trainer).Kill();
        JsonNode run = await client.WaitForRunAsync(key, runId, TimeSpan.FromMinutes(3));
        JsonNode model = await client.JsonAsync(HttpMethod.Get, "/api/tenants/heavy-kill/models/big", key);

        // Assert
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = Assert.Single(model["versions"]!.AsArray())!;
        Assert.Equal("lbfgs-lr-l2-1", version["configuration"]!["id"]!.GetValue<string>());
        JsonNode heavy = version["leaderboard"]!.AsArray().Single(e => e!["candidateId"]!.GetValue<string>() == "mlp-128x64")!;
        Assert.Contains("did not finish", heavy["error"]!.GetValue<string>());
    }
}
