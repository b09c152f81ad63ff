using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;
using Lepton.Training;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class TrainingFlowTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    private static byte[] AutoTrainSpec(string model) =>
        Encoding.UTF8.GetBytes($$"""{ "label": "malignant", "task": "binary", "autoTrain": true, "model": "{{model}}" }""");

    /// <summary>The hospital's data with a fixed share of labels flipped: a worse training set for the same model.</summary>
    private static byte[] WithFlippedLabels(byte[] csv, double share, int seed)
    {
        var random = new Random(seed);
        string[] lines = Encoding.UTF8.GetString(csv).TrimEnd('\n').Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        for (int i = 1; i < lines.Length; i++)
        {
            if (random.NextDouble() < share)
            {
                lines[i] = lines[i].EndsWith(",true", StringComparison.Ordinal) ? lines[i][..^5] + ",false" : lines[i][..^6] + ",true";
            }
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
    }

    [Fact]
    public async Task UploadWithAutoTrain_ThenWorseData_ProductionThenCandidateAndOnnxScoresAsReported()
    {
        // Arrange + Act: dataset.json with autoTrain, then the data
        (string key, string account) = await _client.CreateTenantAsync("train-flow");
        await _client.UploadAsync(key, "train-flow", "cancer", "dataset.json", AutoTrainSpec("cancer-model"));
        byte[] hospital = TestData.Sample("breast_cancer_hospital_a.csv");
        await _client.UploadAsync(key, "train-flow", "cancer", "a.csv", hospital);
        JsonNode dataset = await _client.WaitForRunsAsync(key, "train-flow", "cancer");
        JsonNode ingest = await _client.WaitForRunAsync(key, dataset["runs"]![0]!["runId"]!.GetValue<string>());
        JsonNode training = await _client.WaitForRunAsync(key, ingest["result"]!["TrainingRunId"]!.GetValue<string>());

        // Assert: a production version with cross-validated metrics and a full leaderboard
        Assert.True(training["status"]!.GetValue<string>() == "Completed", training.ToJsonString());
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/train-flow/models/cancer-model", key);
        JsonNode first = model["versions"]![0]!;
        Assert.Equal("production", first["stage"]!.GetValue<string>());
        Assert.Equal(1, model["productionVersion"]!.GetValue<int>());
        Assert.InRange(first["metricValue"]!.GetValue<double>(), 0.95, 1.0);
        Assert.Equal(CandidateCatalog.For(MlTasks.Binary).Count, first["leaderboard"]!.AsArray().Count);
        Assert.All(first["leaderboard"]!.AsArray(), e => Assert.True(e!["metrics"]!["auc"] is not null, e.ToJsonString()));
        Assert.Equal("cancer", first["datasets"]![0]!["dataset"]!.GetValue<string>());

        // Assert: the ONNX artifact downloads, matches its hash, takes only the features and scores the rows as reported
        using HttpResponseMessage download = await _client.SendAsync(HttpMethod.Get, "/api/tenants/train-flow/models/cancer-model/versions/1/onnx", key);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        byte[] onnx = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(first["onnxSha256"]!.GetValue<string>(), TrainingEngine.Sha256(onnx));
        using var scorer = new OnnxScorer(onnx);
        Assert.DoesNotContain(scorer.Inputs, i => i.Name == "malignant");
        string curated = (await fixture.Host.BlobService(account).GetBlobContainerClient("curated").GetBlobClient("cancer/v1/data.csv").DownloadContentAsync()).Value.Content.ToString();
        string[] lines = curated.TrimEnd('\n').Split('\n');
        string[] header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => (IReadOnlyDictionary<string, string?>)header.Zip(l.Split(',')).ToDictionary(p => p.First, p => (string?)p.Second)).ToList();
        float[][] predicted = scorer.Score(rows)["PredictedLabel.output"];
        double accuracy = rows.Select((r, i) => (predicted[i][0] > 0.5f) == (r["malignant"] == "true")).Count(ok => ok) / (double)rows.Count;
        JsonNode reported = first["leaderboard"]!.AsArray().Single(e => e!["candidateId"]!.GetValue<string>() == first["configuration"]!["id"]!.GetValue<string>())!["metrics"]!["accuracy"]!;
        Assert.True(accuracy >= reported["mean"]!.GetValue<double>() - (2 * reported["std"]!.GetValue<double>()),
            $"training-set accuracy {accuracy} is below the reported cross-validated {reported}");

        // Act: the same model trained on worse data
        await _client.UploadAsync(key, "train-flow", "cancer-noisy", "noisy.csv", WithFlippedLabels(hospital, 0.3, seed: 5));
        JsonNode noisy = await _client.WaitForRunsAsync(key, "train-flow", "cancer-noisy");
        Assert.True(noisy["latestVersion"]!.GetValue<int>() == 1, noisy.ToJsonString());
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/train-flow/models", key,
            new { name = "cancer-model", datasets = new[] { "cancer-noisy" }, label = "malignant" }, HttpStatusCode.Accepted);
        JsonNode second = await _client.WaitForRunAsync(key, started["runId"]!.GetValue<string>());

        // Assert: registered as version 2, kept as candidate, with the reason; production unchanged
        Assert.True(second["status"]!.GetValue<string>() == "Completed", second.ToJsonString());
        model = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/train-flow/models/cancer-model", key);
        JsonNode worse = model["versions"]![1]!;
        Assert.Equal((2, "candidate"), (worse["version"]!.GetValue<int>(), worse["stage"]!.GetValue<string>()));
        Assert.Contains("does not beat production v1", worse["promotionReason"]!.GetValue<string>());
        Assert.Equal(1, model["productionVersion"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad\"], \"label\": \"no_such_column\"}", "is not in the dataset")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad\"], \"label\": \"malignant\", \"task\": \"regression\", \"metric\": \"auc\"}", "'metric' for regression")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad\"], \"label\": \"mean_area\", \"classWeights\": \"balanced\"}", "'classWeights' applies to classification")]
    public async Task StartTraining_DataCannotServe_RunFailsWithReadableReason(string body, string reason)
    {
        string key = await TenantWithDataAsync("train-bad", "cancer-bad");

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/tenants/train-bad/models", key, rawBody: body);
        JsonNode run = await _client.WaitForRunAsync(key, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["runId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Failed", run["status"]!.GetValue<string>());
        Assert.Contains(reason, run["error"]!.GetValue<string>());
        // the planning step's own words, not the durable wrapper's ("Task 'PrepareTraining' (#0) failed with ...")
        Assert.DoesNotContain("PrepareTraining", run["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"missing-data\"]}")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad@7\"]}")]
    [InlineData("{\"datasets\": [\"x\"]}")]
    [InlineData("{\"name\": \"m\", \"datasets\": []}")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"x\"], \"folds\": 1}")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad\"], \"classWeights\": \"inverse\"}")]
    [InlineData("{\"name\": \"m\", \"datasets\": [\"cancer-bad\"], \"label\": \"mean_area\", \"task\": \"regression\", \"classWeights\": \"balanced\"}")]
    public async Task StartTraining_InvalidRequest_Answers400(string body)
    {
        string key = await TenantWithDataAsync("train-bad", "cancer-bad");

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/tenants/train-bad/models", key, rawBody: body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task StartTraining_BalancedClassWeights_VersionSaysSoAndServes()
    {
        // Arrange
        string key = await TenantWithDataAsync("train-bad", "cancer-bad");
        const string body = """{"name": "weighted", "datasets": ["cancer-bad"], "label": "malignant", "folds": 3, "candidates": ["lbfgs-lr-l2-1", "mlp-64"], "classWeights": "balanced"}""";

        // Act
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/tenants/train-bad/models", key, rawBody: body);
        JsonNode run = await _client.WaitForRunAsync(key, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["runId"]!.GetValue<string>());

        // Assert: the version records the weighting, is cross-validated as usual and predicts from the features alone
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = (await _client.JsonAsync(HttpMethod.Get, "/api/tenants/train-bad/models/weighted", key))["versions"]![0]!;
        Assert.Equal("balanced", version["classWeights"]!.GetValue<string>());
        Assert.Equal(2, version["leaderboard"]!.AsArray().Count);
        Assert.InRange(version["metricValue"]!.GetValue<double>(), 0.9, 1.0);
        string[] lines = TestData.Lines(TestData.Sample("breast_cancer_hospital_b.csv"));
        string[] names = lines[0].Split(','), values = lines[1].Split(',');
        var row = names.Zip(values).Where(p => p.First != "malignant")
            .ToDictionary(p => p.First, p => (object)double.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture));
        JsonNode prediction = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/train-bad/models/weighted/predict", key, new { rows = new[] { row } });
        JsonNode predicted = prediction["predictions"]![0]!;
        Assert.InRange(predicted["probabilities"]!["true"]!.GetValue<double>(), 0, 1);
        Assert.Contains(predicted["label"]!.GetValue<string>(), new[] { "true", "false" });
    }

    [Fact]
    public async Task StartTraining_MulticlassWithClassesRarerThanTheFolds_TrainsAndServesEveryClass()
    {
        // Arrange: three classes of 30 rows, "few" with 2 rows and "one" with a single row — 5 folds, as real multiclass
        // data often has (scikit-learn's stratified folds accept it with a warning)
        var random = new Random(3);
        var csv = new StringBuilder("x1,x2,kind\n");
        foreach ((string kind, double x1, double x2, int rows) in new[] { ("north", 0.0, 4.0, 30), ("east", 4.0, 0.0, 30), ("south", 0.0, -4.0, 30), ("few", -4.0, 0.0, 2), ("one", -4.0, 4.0, 1) })
        {
            for (int i = 0; i < rows; i++)
            {
                csv.Append(System.FormattableString.Invariant($"{x1 + random.NextDouble() - 0.5:F3},{x2 + random.NextDouble() - 0.5:F3},{kind}\n"));
            }
        }

        (string key, _) = await _client.CreateTenantAsync("train-rare");
        await _client.UploadAsync(key, "train-rare", "kinds", "kinds.csv", Encoding.UTF8.GetBytes(csv.ToString()));
        await _client.WaitForRunsAsync(key, "train-rare", "kinds");
        const string body = """{"name": "kinds", "datasets": ["kinds"], "label": "kind", "task": "multiclass", "candidates": ["lbfgs-maxent-l2-1", "lightgbm-31x200"]}""";

        // Act
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/tenants/train-rare/models", key, rawBody: body);
        JsonNode run = await _client.WaitForRunAsync(key, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["runId"]!.GetValue<string>());

        // Assert: cross-validated on every candidate, the model knows all five classes and answers a probability for each
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = (await _client.JsonAsync(HttpMethod.Get, "/api/tenants/train-rare/models/kinds", key))["versions"]![0]!;
        Assert.All(version["leaderboard"]!.AsArray(), e => Assert.True(e!["metrics"]!["macroF1"] is not null, e.ToJsonString()));
        Assert.Equal(["east", "few", "north", "one", "south"], version["classLabels"]!.AsArray().Select(c => c!.GetValue<string>()));
        JsonNode prediction = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/train-rare/models/kinds/predict", key,
            new { rows = new[] { new { x1 = 0.1, x2 = 3.9 } } });
        JsonNode predicted = prediction["predictions"]![0]!;
        Assert.Equal("north", predicted["label"]!.GetValue<string>());
        Assert.Equal(5, predicted["probabilities"]!.AsObject().Count);
    }

    [Theory]
    [InlineData("0,1,2", "multiclass", "lbfgs-maxent-l2-1")] // class codes, as iris's target is often written
    [InlineData("2,4", "binary", "lbfgs-lr-l2-1")] // the original Wisconsin coding: 2 benign, 4 malignant
    public async Task StartTraining_NumericClassCodesWithoutTask_InfersTheTaskAndLearnsEveryClass(string codes, string task, string candidate)
    {
        // Arrange: two well-separated numbers per class, the label written as a number, no task anywhere
        string[] classes = codes.Split(',');
        var random = new Random(8);
        var csv = new StringBuilder("x1,x2,code\n");
        for (int i = 0; i < 90; i++)
        {
            int k = i % classes.Length;
            csv.Append(System.FormattableString.Invariant($"{(3 * k) + random.NextDouble():F3},{random.NextDouble():F3},{classes[k]}\n"));
        }

        string tenant = task == "binary" ? "train-codes-b" : "train-codes-m";
        (string key, _) = await _client.CreateTenantAsync(tenant);
        await _client.UploadAsync(key, tenant, "codes", "codes.csv", Encoding.UTF8.GetBytes(csv.ToString()));
        await _client.WaitForRunsAsync(key, tenant, "codes");

        // Act
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant}/models", key,
            rawBody: $$"""{"name": "codes", "datasets": ["codes"], "label": "code", "candidates": ["{{candidate}}", "lightgbm-31x200"]}""");
        JsonNode run = await _client.WaitForRunAsync(key, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["runId"]!.GetValue<string>());

        // Assert: the task the label implies, every class known, and a row of the last class predicted as that class
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/models/codes", key))["versions"]![0]!;
        Assert.Equal(task, version["task"]!.GetValue<string>());
        Assert.Equal(classes, version["classLabels"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.InRange(version["metricValue"]!.GetValue<double>(), 0.9, 1.0);
        JsonNode prediction = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/models/codes/predict", key,
            new { rows = new[] { new { x1 = (3.0 * (classes.Length - 1)) + 0.5, x2 = 0.5 } } });
        Assert.Equal(classes[^1], prediction["predictions"]![0]!["label"]!.GetValue<string>());
    }

    private static readonly SemaphoreSlim Setup = new(1, 1);
    private static string? _badKey;

    private async Task<string> TenantWithDataAsync(string tenant, string dataset)
    {
        await Setup.WaitAsync();
        try
        {
            if (_badKey is null)
            {
                (string key, _) = await _client.CreateTenantAsync(tenant);
                await _client.UploadAsync(key, tenant, dataset, "a.csv", TestData.Sample("breast_cancer_hospital_b.csv"));
                await _client.WaitForRunsAsync(key, tenant, dataset);
                _badKey = key;
            }

            return _badKey;
        }
        finally
        {
            Setup.Release();
        }
    }
}
