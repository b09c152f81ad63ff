using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;
using Lepton.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class PredictionFlowTests(DevHostFixture fixture)
{
    private const string Tenant = "predict";
    private readonly LeptonClient _client = fixture.Client;

    private static readonly SemaphoreSlim Setup = new(1, 1);
    private static (string Key, byte[] Onnx, List<Dictionary<string, object>> Rows, List<string> Truth)? _trained;

    /// <summary>A tenant with a production breast-cancer model, its ONNX artifact, and feature rows from its curated data.</summary>
    private async Task<(string Key, byte[] Onnx, List<Dictionary<string, object>> Rows, List<string> Truth)> TrainedAsync()
    {
        await Setup.WaitAsync();
        try
        {
            if (_trained is { } done)
            {
                return done;
            }

            (string key, string account) = await _client.CreateTenantAsync(Tenant);
            await _client.UploadAsync(key, Tenant, "cancer", "a.csv", TestData.Sample("breast_cancer_hospital_b.csv"));
            await _client.WaitForRunsAsync(key, Tenant, "cancer");
            JsonNode started = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models", key,
                new { name = "cancer", datasets = new[] { "cancer" }, label = "malignant", candidates = new[] { "lbfgs-lr-l2-0.1", "fasttree-20x100" } }, HttpStatusCode.Accepted);
            JsonNode run = await _client.WaitForRunAsync(key, started["runId"]!.GetValue<string>());
            Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
            using HttpResponseMessage download = await _client.SendAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/models/cancer/versions/1/onnx", key);
            byte[] onnx = await download.Content.ReadAsByteArrayAsync();
            string curated = (await fixture.Host.BlobService(account).GetBlobContainerClient("curated").GetBlobClient("cancer/v1/data.csv").DownloadContentAsync()).Value.Content.ToString();
            string[] lines = curated.TrimEnd('\n').Split('\n');
            string[] header = lines[0].Split(',');
            var rows = new List<Dictionary<string, object>>();
            var truth = new List<string>();
            foreach (string line in lines.Skip(1).Take(60))
            {
                string[] cells = line.Split(',');
                rows.Add(header.Zip(cells).Where(p => p.First != "malignant")
                    .ToDictionary(p => p.First, p => (object)double.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture)));
                truth.Add(cells[Array.IndexOf(header, "malignant")]);
            }

            _trained = (key, onnx, rows, truth);
            return _trained.Value;
        }
        finally
        {
            Setup.Release();
        }
    }

    [Fact]
    public async Task Predict_ProductionModel_EqualsOnnxRuntimeOnTheArtifact()
    {
        (string key, byte[] onnx, List<Dictionary<string, object>> rows, List<string> truth) = await TrainedAsync();

        JsonNode response = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/cancer/predict", key, new { rows });

        using var scorer = new OnnxScorer(onnx);
        float[][] probability = scorer.Score(rows.Select(r => (IReadOnlyDictionary<string, string?>)r.ToDictionary(p => p.Key, p => (string?)((double)p.Value).ToString("R", System.Globalization.CultureInfo.InvariantCulture))).ToList())["Probability.output"];
        JsonArray predictions = response["predictions"]!.AsArray();
        Assert.Equal(("cancer", 1), (response["model"]!.GetValue<string>(), response["version"]!.GetValue<int>()));
        Assert.Equal(rows.Count, predictions.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(probability[i][0], predictions[i]!["probabilities"]!["true"]!.GetValue<float>(), 5);
            Assert.Equal(probability[i][0] >= 0.5f ? "true" : "false", predictions[i]!["label"]!.GetValue<string>());
        }

        double accuracy = predictions.Select((p, i) => p!["label"]!.GetValue<string>() == truth[i]).Count(ok => ok) / (double)rows.Count;
        Assert.True(accuracy > 0.9, $"accuracy {accuracy}");
    }

    [Fact]
    public async Task Predict_SeveralRequests_UsageSummarizedInTheAuditLogNotPerRequest()
    {
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        JsonNode consumer = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/keys", key, new { roles = new[] { "consumer" } }, HttpStatusCode.Created);
        const int requests = 10;

        for (int i = 0; i < requests; i++)
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/cancer/predict", consumer["apiKey"]!.GetValue<string>(), new { rows = rows.Take(4) });
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        JsonArray entries = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/audit?max=500", key))["entries"]!.AsArray();

        // The meter flushes every 2 s here, so a flush may fall between two of the requests: one entry per flush, never
        // one per request, and together they count every request and row once.
        var usage = entries.Where(e => e!["action"]!.GetValue<string>() == "prediction.usage"
                && e["actor"]!.GetValue<string>().EndsWith(consumer["keyId"]!.GetValue<string>(), StringComparison.Ordinal))
            .Select(e => System.Text.RegularExpressions.Regex.Match(e!["outcome"]!.GetValue<string>(), @"^(\d+) requests, (\d+) rows"))
            .ToList();
        Assert.All(usage, match => Assert.True(match.Success));
        Assert.InRange(usage.Count, 1, requests - 1);
        Assert.Equal((requests, requests * 4), (usage.Sum(m => int.Parse(m.Groups[1].Value)), usage.Sum(m => int.Parse(m.Groups[2].Value))));
    }

    [Fact]
    public async Task PredictVersion_NamedVersion_Scores()
    {
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();

        JsonNode response = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/cancer/versions/1/predict", key, new { rows = rows.Take(3) });

        Assert.Equal(3, response["predictions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Predict_CallerMistakes_AnswerTheirStatusAsProblemJson()
    {
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        var badRow = new Dictionary<string, object>(rows[0]) { ["mean_radius"] = "large", ["extra"] = 1 };
        badRow.Remove("mean_texture");
        var beyondFloat = new Dictionary<string, object>(rows[0]) { ["mean_radius"] = 1e300 };
        string tooMany = System.Text.Json.JsonSerializer.Serialize(new { rows = Enumerable.Repeat(rows[0], 1001) });
        string tooBig = "{\"rows\": [" + string.Join(",", Enumerable.Repeat("{\"pad\": \"" + new string('x', 1000) + "\"}", 9000)) + "]}";

        var cases = new (string Name, string Path, string Body, HttpStatusCode Status)[]
        {
            ("unknown model", "models/nope/predict", "{\"rows\": [{}]}", HttpStatusCode.NotFound),
            ("unknown version", "models/cancer/versions/9/predict", System.Text.Json.JsonSerializer.Serialize(new { rows = rows.Take(1) }), HttpStatusCode.NotFound),
            ("malformed JSON", "models/cancer/predict", "{\"rows\": [", HttpStatusCode.BadRequest),
            ("no rows", "models/cancer/predict", "{\"rows\": []}", HttpStatusCode.BadRequest),
            ("bad row", "models/cancer/predict", System.Text.Json.JsonSerializer.Serialize(new { rows = new[] { badRow } }), HttpStatusCode.BadRequest),
            ("number beyond a float", "models/cancer/predict", System.Text.Json.JsonSerializer.Serialize(new { rows = new[] { rows[0], beyondFloat } }), HttpStatusCode.BadRequest),
            ("too many rows", "models/cancer/predict", tooMany, HttpStatusCode.RequestEntityTooLarge),
            ("body too large", "models/cancer/predict", tooBig, HttpStatusCode.RequestEntityTooLarge),
        };

        foreach ((string name, string path, string body, HttpStatusCode status) in cases)
        {
            using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/{path}", key, rawBody: body);
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{name}: expected {(int)status}, got {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (name == "bad row")
            {
                JsonArray errors = JsonNode.Parse(text)!["errors"]!.AsArray();
                Assert.Contains(errors, e => e!["field"]!.GetValue<string>() == "mean_radius" && e["row"]!.GetValue<int>() == 0);
                Assert.Contains(errors, e => e!["field"]!.GetValue<string>() == "mean_texture");
                Assert.Contains(errors, e => e!["field"]!.GetValue<string>() == "extra");
            }

            if (name == "number beyond a float")
            {
                JsonNode error = Assert.Single(JsonNode.Parse(text)!["errors"]!.AsArray())!;
                Assert.Equal((1, "mean_radius"), (error["row"]!.GetValue<int>(), error["field"]!.GetValue<string>()));
            }
        }
    }

    [Fact]
    public async Task Predict_RowsALinearModelCannotScore_400NamesThoseRowsAndTheModelStillServes()
    {
        // Arrange: a linear model (its score runs into ML.NET's Binarizer, which stops ONNX Runtime on a NaN) and a row with
        // every input at a float's limit, alternating in sign: scaled, its terms overflow to infinities of both signs
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models", key,
            new { name = "cancer-linear", datasets = new[] { "cancer" }, label = "malignant", candidates = new[] { "lbfgs-lr-l2-0.1" } }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(key, started["runId"]!.GetValue<string>());
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        var extreme = rows[0].Keys.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => (object)(p.i % 2 == 0 ? 3.4e38 : -3.4e38));
        string path = $"/api/tenants/{Tenant}/models/cancer-linear/predict";

        // Act
        using HttpResponseMessage mixed = await _client.SendAsync(HttpMethod.Post, path, key, new { rows = new[] { rows[0], rows[1], extreme } });
        using HttpResponseMessage alone = await _client.SendAsync(HttpMethod.Post, path, key, new { rows = new[] { extreme } });
        JsonNode afterwards = await _client.JsonAsync(HttpMethod.Post, path, key, new { rows = rows.Take(2) });

        // Assert: a caller's mistake in both the batch and the one-row call, naming the row; the model is not broken by it
        foreach ((HttpResponseMessage response, int row) in new[] { (mixed, 2), (alone, 0) })
        {
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            JsonNode error = Assert.Single(JsonNode.Parse(text)!["errors"]!.AsArray())!;
            Assert.Equal(row, error["row"]!.GetValue<int>());
            Assert.StartsWith("the model cannot score this row", error["problem"]!.GetValue<string>());
        }

        Assert.Equal(2, afterwards["predictions"]!.AsArray().Count);
    }

    [Fact]
    public async Task BringYourOwnOnnx_Registered_ServesLikeTrainedAndRefusesGarbage()
    {
        (string key, byte[] onnx, List<Dictionary<string, object>> rows, _) = await TrainedAsync();

        JsonNode registered = await PostOnnxAsync(key, "models/byo/versions?task=binary&classLabels=false,true", onnx, HttpStatusCode.Created);
        JsonNode fromByo = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/byo/predict", key, new { rows = rows.Take(10) });
        JsonNode fromTrained = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/cancer/predict", key, new { rows = rows.Take(10) });
        await PostOnnxAsync(key, "models/byo-garbage/versions?task=binary", Encoding.UTF8.GetBytes("not an onnx model"), HttpStatusCode.BadRequest);
        await PostOnnxAsync(key, "models/byo-shelved/versions?task=binary&promote=false", onnx, HttpStatusCode.Created);
        using HttpResponseMessage notProduction = await _client.SendAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/models/byo-shelved/predict", key, new { rows = rows.Take(1) });

        Assert.Equal("production", registered["stage"]!.GetValue<string>());
        Assert.Equal(TrainingEngine.Sha256(onnx), registered["onnxSha256"]!.GetValue<string>());
        Assert.Equal(fromTrained["predictions"]!.ToJsonString(), fromByo["predictions"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, notProduction.StatusCode);
    }

    [Fact]
    public async Task BatchScoring_FileInPredictionsIn_WritesEveryRowWithPredictionsOrAReport()
    {
        // Arrange: two full chunks and part of a third, with an extra id column, and a file lacking an input column
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        int count = 2 * Lepton.Prediction.BatchScoring.RowsPerChunk(inputs.Length + 1) + 1_000;
        var csv = new StringBuilder("id," + string.Join(',', inputs) + "\n");
        for (int i = 0; i < count; i++)
        {
            Dictionary<string, object> row = rows[i % rows.Count];
            csv.Append(i).Append(',').AppendJoin(',', inputs.Select(n => ((double)row[n]).ToString(System.Globalization.CultureInfo.InvariantCulture))).Append('\n');
        }

        string bad = "id,mean_radius\n1,12.5\n";
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");

        // Act
        await UploadToScoreAsync(key, "batch.csv", Encoding.UTF8.GetBytes(csv.ToString()));
        await UploadToScoreAsync(key, "bad.csv", Encoding.UTF8.GetBytes(bad));
        string output = await WaitForBlobAsync(predictions, "out/cancer/batch.csv");
        string report = await WaitForBlobAsync(predictions, "out/cancer/bad.csv.report.txt");

        // Assert
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(count + 1, lines.Length);
        Assert.EndsWith(",prediction,score,probability", lines[0]);
        Assert.Equal(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Skip(1).Select(l => l[..l.IndexOf(',')]));
        Assert.All(lines.Skip(1).Take(100), l => Assert.Matches(",(true|false),[^,]+,[0-9.eE-]+$", l));
        Assert.Contains("lacks the model's input columns", report);
        Assert.False((await predictions.GetBlobClient("out/cancer/bad.csv").ExistsAsync()).Value);
        // each answer names the run and the upload it answers
        IDictionary<string, string> answered = (await predictions.GetBlobClient("out/cancer/batch.csv").GetPropertiesAsync()).Value.Metadata;
        IDictionary<string, string> reported = (await predictions.GetBlobClient("out/cancer/bad.csv.report.txt").GetPropertiesAsync()).Value.Metadata;
        Assert.Equal((await predictions.GetBlobClient("in/cancer/batch.csv").GetPropertiesAsync()).Value.ETag.ToString().Trim('"'), answered["sourceetag"]);
        Assert.StartsWith("score-", reported["runid"]);
    }

    [Fact]
    public async Task BatchScoring_GoodFileReplacedByABadOne_TheReportAloneAnswersTheName()
    {
        // Arrange: a file scored, then replaced in the tenant's storage under the same name by one lacking the inputs
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        string good = string.Join(',', inputs) + "\n" + string.Join(',', inputs.Select(n => ((double)rows[0][n]).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n";
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");
        await UploadToScoreAsync(key, "again.csv", Encoding.UTF8.GetBytes(good));
        await WaitForBlobAsync(predictions, "out/cancer/again.csv");

        // Act
        await predictions.GetBlobClient("in/cancer/again.csv").UploadAsync(BinaryData.FromString("id,mean_radius\n1,12.5\n"), overwrite: true);
        string report = await WaitForBlobAsync(predictions, "out/cancer/again.csv.report.txt");

        // Assert: the earlier upload's output went before the report came, so the name has one answer: the newest upload's
        Assert.Contains("lacks the model's input columns", report);
        Assert.False((await predictions.GetBlobClient("out/cancer/again.csv").ExistsAsync()).Value);
    }

    [Fact]
    public async Task BatchScoring_FileNotUtf8_ReportSaysSoAndNothingIsLeftBehind()
    {
        // Arrange: a Latin-1 file with the model's columns
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        byte[] latin1 = [.. Encoding.ASCII.GetBytes("note," + string.Join(',', inputs) + "\nJos"), 0xE9,
            .. Encoding.ASCII.GetBytes("," + string.Join(',', inputs.Select(n => ((double)rows[0][n]).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n")];
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");

        // Act
        await UploadToScoreAsync(key, "latin1.csv", latin1);
        string report = await WaitForBlobAsync(predictions, "out/cancer/latin1.csv.report.txt");

        // Assert: the partner's mistake, said as such; no output and no staged chunks
        Assert.Contains("not valid UTF-8", report);
        Assert.False((await predictions.GetBlobClient("out/cancer/latin1.csv").ExistsAsync()).Value);
        Assert.Empty(await predictions.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "work/", default).ToListAsync());
    }

    [Fact]
    public async Task BatchScoring_QuotedFormulaAndSemicolonFiles_WrittenAsValidCsvAndBlankNumbersReported()
    {
        // Arrange: a note column with an escaped quote, a comma and a formula; and a file with a blank input cell and a number no float holds
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        string Values(Dictionary<string, object> row) => string.Join(',', inputs.Select(n => ((double)row[n]).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string good = "note," + string.Join(',', inputs) + "\n"
            + "\"he said \"\"hi\"\", twice\"," + Values(rows[0]) + "\n"
            + "\"=HYPERLINK(\"\"http://x\"\")\"," + Values(rows[1]) + "\n";
        string semicolons = "note;" + string.Join(';', inputs) + "\n" + "\"x;y\";" + Values(rows[3]).Replace(',', ';') + "\n";
        // the same row as a spreadsheet in a decimal-comma locale exports it
        string decimalCommas = "note;" + string.Join(';', inputs) + "\n" + "\"x;y\";" + Values(rows[3]).Replace(',', ';').Replace('.', ',') + "\n";
        string[] blankCells = Values(rows[2]).Split(',');
        blankCells[0] = "";
        string[] hugeCells = Values(rows[4]).Split(',');
        hugeCells[1] = "1e300";
        string blank = string.Join(',', inputs) + "\n" + string.Join(',', blankCells) + "\n" + string.Join(',', hugeCells) + "\n";
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");

        // Act
        await UploadToScoreAsync(key, "quoted.csv", Encoding.UTF8.GetBytes(good));
        await UploadToScoreAsync(key, "blank.csv", Encoding.UTF8.GetBytes(blank));
        await UploadToScoreAsync(key, "semicolons.csv", Encoding.UTF8.GetBytes(semicolons));
        await UploadToScoreAsync(key, "decimal-commas.csv", Encoding.UTF8.GetBytes(decimalCommas));
        string output = await WaitForBlobAsync(predictions, "out/cancer/quoted.csv");
        string fromSemicolons = await WaitForBlobAsync(predictions, "out/cancer/semicolons.csv");
        string fromDecimalCommas = await WaitForBlobAsync(predictions, "out/cancer/decimal-commas.csv");
        string report = await WaitForBlobAsync(predictions, "out/cancer/blank.csv.report.txt");

        // Assert: the quoted value survives as one escaped field, the formula is neutralized, the blank number is named
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("\"he said \"\"hi\"\", twice\",", lines[1]);
        Assert.StartsWith("\"'=HYPERLINK(\"\"http://x\"\")\",", lines[2]);
        // a file separated by semicolons is read as such and written with commas like every output
        Assert.Collection(fromSemicolons.TrimEnd('\n').Split('\n'),
            header => Assert.Equal("note," + string.Join(',', inputs) + ",prediction,score,probability", header),
            row => Assert.Matches("^x;y," + System.Text.RegularExpressions.Regex.Escape(Values(rows[3])) + ",(true|false),[^,]+,[0-9.eE-]+$", row));
        // decimal commas are read as the numbers they are: the same prediction, score and probability as with points
        Assert.Equal(fromSemicolons.TrimEnd('\n').Split('\n')[1].Split(',')[^3..], fromDecimalCommas.TrimEnd('\n').Split('\n')[1].Split(',')[^3..]);
        Assert.Contains($"Line 2, column '{inputs[0]}': the value is missing", report);
        Assert.Contains($"Line 3, column '{inputs[1]}': '1e300' is beyond a 32-bit float's range", report);
        Assert.False((await predictions.GetBlobClient("out/cancer/blank.csv").ExistsAsync()).Value);
        Assert.Empty(await predictions.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "work/", default).ToListAsync());
    }

    [Fact]
    public async Task PlanBatchScoring_FileReplacedBeforeItIsRead_ReportsReplacedAndPlansTheCurrentVersion()
    {
        // Arrange: a file named by an event, then replaced by the partner before the planning pass reads it. It lies outside
        // in/, so the dev host's watcher does not score it on its own; the pass is called as the activity calls it.
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        string Values(Dictionary<string, object> row) => string.Join(',', inputs.Select(n => ((double)row[n]).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");
        var file = predictions.GetBlobClient("scratch/replaced.csv");
        string csv = string.Join(',', inputs) + "\n" + Values(rows[0]) + "\n";
        string named = (await file.UploadAsync(BinaryData.FromString(csv))).Value.ETag.ToString();
        string current = (await file.UploadAsync(BinaryData.FromString(csv + Values(rows[1]) + "\n"), overwrite: true)).Value.ETag.ToString();
        await using ServiceProvider platform = fixture.Host.CoreServices();
        var batch = platform.GetRequiredService<Lepton.Prediction.BatchScoring>();

        // Act
        Lepton.Prediction.BatchPlan stale = await batch.PlanAsync(new Lepton.Prediction.BatchRequest(Tenant, file.Name, named, "cancer", "replaced.csv", "test-replaced"), default);
        Lepton.Prediction.BatchPlan plan = await batch.PlanAsync(new Lepton.Prediction.BatchRequest(Tenant, file.Name, current, "cancer", "replaced.csv", "test-current"), default);
        List<string> staged = await predictions.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "work/", default).Select(b => b.Name).ToListAsync();
        foreach (string chunk in staged)
        {
            await predictions.DeleteBlobAsync(chunk);
        }

        // Assert: the replaced version is a problem for its own report and stages nothing; the current one plans both rows
        Assert.Equal("The file was replaced before it could be read; the new upload is scored on its own.", Assert.Single(stale.Problems));
        Assert.Empty(stale.Chunks);
        Assert.Empty(plan.Problems);
        Assert.Equal(2, plan.Rows);
        Assert.Equal(["work/test-current/chunk-000000.csv"], staged);
    }

    [Fact]
    public async Task CommitBatchScoring_FileReplacedWhileScored_OutputIsTheNewUploadsAlone()
    {
        // Arrange: a two-chunk file scored, replaced by the partner, the new upload scored too — the runs' steps interleaved
        // as two runs of one file name can be: the older run's chunks staged, then the newer run's, then both commit.
        (string key, _, List<Dictionary<string, object>> rows, _) = await TrainedAsync();
        string[] inputs = rows[0].Keys.ToArray();
        int count = Lepton.Prediction.BatchScoring.RowsPerChunk(inputs.Length + 1) + 10;
        string File(string prefix) => "id," + string.Join(',', inputs) + "\n" + string.Concat(Enumerable.Range(0, count).Select(i =>
            $"{prefix}{i}," + string.Join(',', inputs.Select(n => ((double)rows[i % rows.Count][n]).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n"));
        string account = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}", key))["storageAccount"]!.GetValue<string>();
        var predictions = fixture.Host.BlobService(account).GetBlobContainerClient("predictions");
        var file = predictions.GetBlobClient("scratch/twice.csv");
        await using ServiceProvider platform = fixture.Host.CoreServices();
        var batch = platform.GetRequiredService<Lepton.Prediction.BatchScoring>();
        async Task<(Lepton.Prediction.BatchPlan Plan, List<string> Blocks)> ScoreAsync(string content, string runId)
        {
            string etag = (await file.UploadAsync(BinaryData.FromString(content), overwrite: true)).Value.ETag.ToString();
            Lepton.Prediction.BatchPlan plan = await batch.PlanAsync(new Lepton.Prediction.BatchRequest(Tenant, file.Name, etag, "cancer", "twice.csv", runId), default);
            var blocks = new List<string>();
            foreach (Lepton.Prediction.BatchChunk chunk in plan.Chunks)
            {
                blocks.Add(await batch.ScoreChunkAsync(new Lepton.Prediction.ChunkRequest(plan, chunk), default));
            }

            return (plan, blocks);
        }

        // a report left by an upload of the name before both
        var report = predictions.GetBlobClient("out/cancer/twice.csv.report.txt");
        await report.UploadAsync(BinaryData.FromString("Lepton could not score an earlier upload."), overwrite: true);
        (Lepton.Prediction.BatchPlan older, List<string> olderBlocks) = await ScoreAsync(File("old-"), "test-twice-old");
        (Lepton.Prediction.BatchPlan newer, List<string> newerBlocks) = await ScoreAsync(File("new-"), "test-twice-new");

        // Act: the older run commits first, then writes its report as the orchestrator would; then the newer run commits
        Lepton.Prediction.BatchCommit olderCommit = await batch.CommitAsync(older, olderBlocks, default);
        string? olderReport = await batch.ReportAsync(older with { Problems = olderCommit.Problems }, default);
        Lepton.Prediction.BatchCommit newerCommit = await batch.CommitAsync(newer, newerBlocks, default);

        // Assert: the older run publishes nothing, not even a report over the name's answer; the output is every row of
        // the new upload and none of the old, and the earlier upload's report is gone
        Assert.Equal(2, older.Chunks.Count);
        Assert.Equal(["The file was replaced while it was being scored; the new upload is scored on its own."], olderCommit.Problems);
        Assert.Null(olderCommit.Output);
        Assert.Null(olderReport);
        Assert.Equal(("out/cancer/twice.csv", 0), (newerCommit.Output, newerCommit.Problems.Count));
        Assert.False((await report.ExistsAsync()).Value);
        IDictionary<string, string> answers = (await predictions.GetBlobClient("out/cancer/twice.csv").GetPropertiesAsync()).Value.Metadata;
        Assert.Equal((newer.Request.ETag.Trim('"'), "test-twice-new"), (answers["sourceetag"], answers["runid"]));
        string[] lines = (await predictions.GetBlobClient("out/cancer/twice.csv").DownloadContentAsync()).Value.Content.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"new-{i}"), lines.Skip(1).Select(l => l[..l.IndexOf(',')]));
        Assert.Empty(await predictions.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "work/", default).ToListAsync());
    }

    private async Task UploadToScoreAsync(string key, string fileName, byte[] content)
    {
        JsonNode upload = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/uploads", key, new { model = "cancer", fileName }, HttpStatusCode.Created);
        using var http = new HttpClient();
        using var put = new HttpRequestMessage(HttpMethod.Put, upload["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(content) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        using HttpResponseMessage response = await http.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<string> WaitForBlobAsync(Azure.Storage.Blobs.BlobContainerClient container, string name)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var blob = container.GetBlobClient(name);
            if ((await blob.ExistsAsync()).Value)
            {
                return (await blob.DownloadContentAsync()).Value.Content.ToString();
            }

            await Task.Delay(300);
        }

        throw new TimeoutException($"{name} did not appear.");
    }

    private async Task<JsonNode> PostOnnxAsync(string key, string path, byte[] content, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = fixture.Host.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/tenants/{Tenant}/{path}") { Content = new ByteArrayContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("x-api-key", key);
        using HttpResponseMessage response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
