using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;
using Lepton.Training;

namespace Lepton.Tests.Integration;

/// <summary>Lepton's own networks in the training fan-out, serving through the predict route, and learning online.</summary>
[Collection(DevHostCollection.Name)]
public class NetworkTrainingTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    public async Task Training_NetworkCandidatesCompete_WinnerOnnxServesThePredictRoute()
    {
        // Arrange
        (string key, _) = await _client.CreateTenantAsync("net-serve");
        byte[] csv = TestData.Sample("breast_cancer_hospital_a.csv");
        await _client.UploadAsync(key, "net-serve", "bc", "a.csv", csv);
        await _client.WaitForRunsAsync(key, "net-serve", "bc");

        // Act
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/net-serve/models", key,
            new { name = "bc", datasets = new[] { "bc" }, label = "malignant", folds = 3, candidates = new[] { "mlp-64", "mlp-128x64", "sgd-linear" } }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(key, started["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/net-serve/models/bc", key);
        string[] lines = TestData.Lines(csv);
        string[] header = lines[0].Split(',');
        var rows = lines.Skip(1).Take(20).Select(l => header.Zip(l.Split(',')).Where(p => p.First != "malignant")
            .ToDictionary(p => p.First, p => (object)double.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        JsonNode predicted = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/net-serve/models/bc/predict", key, new { rows });
        using HttpResponseMessage download = await _client.SendAsync(HttpMethod.Get, "/api/tenants/net-serve/models/bc/versions/1/onnx", key);
        byte[] onnx = await download.Content.ReadAsByteArrayAsync();

        // Assert: every network is on the leaderboard with its hyper-parameters; the winner is one of them
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = model["versions"]![0]!;
        JsonArray leaderboard = version["leaderboard"]!.AsArray();
        Assert.Equal(["mlp-128x64", "mlp-64", "sgd-linear"], leaderboard.Select(e => e!["candidateId"]!.GetValue<string>()).Order());
        Assert.All(leaderboard, e => Assert.True(e!["error"] is null && e["metrics"]!["auc"]!["mean"]!.GetValue<double>() > 0.9, e.ToJsonString()));
        Assert.Equal(128, leaderboard.Single(e => e!["candidateId"]!.GetValue<string>() == "mlp-128x64")!["hyperParameters"]!["hidden1"]!.GetValue<double>());
        Assert.Contains(version["configuration"]!["trainer"]!.GetValue<string>(), new[] { "Mlp", "Sgd" });
        Assert.InRange(version["metricValue"]!.GetValue<double>(), 0.95, 1.0);

        // the route serves the registered ONNX artifact: its own scores, and labels that fit the data
        using var scorer = new OnnxScorer(onnx);
        float[][] probabilities = scorer.Score(rows.Select(r => (IReadOnlyDictionary<string, string?>)r.ToDictionary(p => p.Key,
            p => (string?)((double)p.Value).ToString("R", System.Globalization.CultureInfo.InvariantCulture))).ToList())["Probability.output"];
        JsonArray predictions = predicted["predictions"]!.AsArray();
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(probabilities[i][0], predictions[i]!["probabilities"]!["true"]!.GetValue<float>(), 5);
        }

        double accuracy = Enumerable.Range(0, rows.Count).Count(i => predictions[i]!["label"]!.GetValue<string>() == lines[i + 1].Split(',')[^1]) / (double)rows.Count;
        Assert.True(accuracy >= 0.9, $"accuracy {accuracy}");
    }

    [Fact]
    public async Task OnlineUpdate_NewDatasetVersion_RegistersAWarmStartedVersion()
    {
        // Arrange: a network in production on the first hospital's rows
        (string key, _) = await _client.CreateTenantAsync("net-online");
        await _client.UploadAsync(key, "net-online", "bc", "a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await _client.WaitForRunsAsync(key, "net-online", "bc");
        JsonNode first = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/net-online/models", key,
            new { name = "bc", datasets = new[] { "bc" }, label = "malignant", folds = 3, candidates = new[] { "mlp-64" } }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(key, first["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3)))["status"]!.GetValue<string>());

        // Act: dataset.json asks for online learning; the second hospital's rows arrive as version 2
        await _client.UploadAsync(key, "net-online", "bc", "dataset.json",
            Encoding.UTF8.GetBytes("""{ "label": "malignant", "task": "binary", "online": true, "model": "bc" }"""));
        await _client.UploadAsync(key, "net-online", "bc", "b.csv", TestData.Sample("breast_cancer_hospital_b.csv"));
        JsonNode dataset = await _client.WaitForRunsAsync(key, "net-online", "bc", runs: 2);
        string ingestRun = dataset["runs"]!.AsArray().Single(r => r!["fileName"]!.GetValue<string>() == "b.csv")!["runId"]!.GetValue<string>();
        JsonNode ingest = await _client.WaitForRunAsync(key, ingestRun);
        JsonNode update = await _client.WaitForRunAsync(key, ingest["result"]!["TrainingRunId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));

        // and the same by hand, on a named version, with an epoch count
        JsonNode manual = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/net-online/models/bc/update", key, new { dataset = "bc@2", epochs = 3 }, HttpStatusCode.Accepted);
        JsonNode manualRun = await _client.WaitForRunAsync(key, manual["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/net-online/models/bc", key);
        // data without the model's columns is refused when asked, naming the data set and what is missing
        await _client.UploadAsync(key, "net-online", "other", "o.csv", TestData.GeneratedNumeric(30));
        await _client.WaitForRunsAsync(key, "net-online", "other");
        using HttpResponseMessage unfit = await _client.SendAsync(HttpMethod.Post, "/api/tenants/net-online/models/bc/update", key, new { dataset = "other" });

        // Assert
        Assert.True(update["status"]!.GetValue<string>() == "Completed", update.ToJsonString());
        Assert.Equal("onlineupdate", update["kind"]!.GetValue<string>());
        Assert.True(manualRun["status"]!.GetValue<string>() == "Completed", manualRun.ToJsonString());
        JsonNode warm = model["versions"]![1]!;
        Assert.Equal(1, warm["warmStartedFrom"]!.GetValue<int>());
        Assert.Equal(2, warm["datasets"]![0]!["version"]!.GetValue<int>());
        Assert.Contains("warm-started from v1", warm["promotionReason"]!.GetValue<string>());
        Assert.NotNull(warm["evaluation"]!["new"]!["auc"]);
        Assert.NotNull(warm["evaluation"]!["previous"]!["auc"]);
        Assert.NotNull(warm["evaluation"]!["v1 on both"]!["auc"]);
        Assert.Contains(warm["stage"]!.GetValue<string>(), new[] { "production", "candidate", "archived" });
        Assert.Equal(3, model["versions"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.BadRequest, unfit.StatusCode);
        Assert.Contains("Dataset 'other' v1 lacks column(s) 'mean_radius'", await unfit.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OnlineUpdate_TreeModelInProduction_AnswersConflict()
    {
        (string key, _) = await _client.CreateTenantAsync("net-tree");
        await _client.UploadAsync(key, "net-tree", "bc", "a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await _client.WaitForRunsAsync(key, "net-tree", "bc");
        JsonNode first = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/net-tree/models", key,
            new { name = "bc", datasets = new[] { "bc" }, label = "malignant", folds = 2, candidates = new[] { "lbfgs-lr-l2-1" } }, HttpStatusCode.Accepted);
        await _client.WaitForRunAsync(key, first["runId"]!.GetValue<string>());

        using HttpResponseMessage refused = await _client.SendAsync(HttpMethod.Post, "/api/tenants/net-tree/models/bc/update", key, new { dataset = "bc" });
        using HttpResponseMessage unknown = await _client.SendAsync(HttpMethod.Post, "/api/tenants/net-tree/models/bc/update", key, new { dataset = "nope" });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("online", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, unknown.StatusCode);
    }
}
