using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lepton.Ingestion;
using Lepton.Tests.Integration.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class IngestionFlowTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    public async Task Upload_ValidCsvThroughSasUrl_PublishesCuratedVersionWithProfile()
    {
        // Arrange
        (string key, string account) = await _client.CreateTenantAsync("flow-valid");

        // Act
        await _client.UploadAsync(key, "flow-valid", "breast-cancer", "dataset.json", TestData.BreastCancerSpec);
        await _client.UploadAsync(key, "flow-valid", "breast-cancer", "hospital_a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-valid", "breast-cancer");

        // Assert: the API reports the version, schema, profile and quality report
        Assert.Equal(1, dataset["latestVersion"]!.GetValue<int>());
        JsonNode selected = dataset["selected"]!;
        Assert.Equal(260, selected["version"]!["rows"]!.GetValue<int>());
        Assert.Equal(31, selected["version"]!["columns"]!.GetValue<int>());
        Assert.Equal("malignant", selected["schema"]!["label"]!.GetValue<string>());
        Assert.Equal("binary", selected["schema"]!["task"]!.GetValue<string>());
        JsonNode radius = selected["profile"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "mean_radius")!;
        Assert.Equal(260, radius["count"]!.GetValue<int>());
        Assert.InRange(radius["mean"]!.GetValue<double>(), 13.0, 15.0);
        JsonNode label = selected["profile"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "malignant")!;
        Assert.Equal("Boolean", label["kind"]!.GetValue<string>());
        Assert.Equal(260, selected["quality"]!["rowsIn"]!.GetValue<int>());
        Assert.Equal(64, selected["lineage"]!["source"]!["sha256"]!.GetValue<string>().Length);

        // Assert: the curated blobs exist in the tenant's own account with the right number of rows
        BlobContainerClient curated = fixture.Host.BlobService(account).GetBlobContainerClient("curated");
        string data = (await curated.GetBlobClient("breast-cancer/v1/data.csv").DownloadContentAsync()).Value.Content.ToString();
        Assert.Equal(261, data.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (string document in new[] { "schema.json", "profile.json", "quality.json", "lineage.json" })
        {
            Assert.True((await curated.GetBlobClient($"breast-cancer/v1/{document}").ExistsAsync()).Value, document);
        }
    }

    [Fact]
    public async Task Upload_Traced_OneTraceSpansTheWebhookAndEveryIngestStepWithTenantAndRun()
    {
        // Arrange + Act
        (string key, _) = await _client.CreateTenantAsync("flow-traced");
        await _client.UploadAsync(key, "flow-traced", "numbers", "n.csv", TestData.GeneratedNumeric(40));
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-traced", "numbers");
        string runId = dataset["runs"]![0]!["runId"]!.GetValue<string>();
        await Task.Delay(500);
        List<JsonNode> spans = File.ReadAllLines(DevHostFixture.TraceFile).Select(l => JsonNode.Parse(l)!)
            .Where(s => s["tags"]!["lepton.run"]?.GetValue<string>() == runId).ToList();

        // Assert: the webhook's span is the root of the run's steps, all in one trace, each naming the tenant and the run
        JsonNode webhook = spans.First(s => s["name"]!.GetValue<string>() == "ingest.webhook");
        string trace = webhook["traceId"]!.GetValue<string>();
        List<JsonNode> steps = spans.Where(s => s["traceId"]!.GetValue<string>() == trace && s["name"]!.GetValue<string>() != "ingest.webhook").ToList();
        string[] names = steps.Select(s => s["name"]!.GetValue<string>()).ToArray();
        Assert.Contains("ingest.analyze", names);
        Assert.Contains("ingest.clean", names);
        Assert.Contains("ingest.publish", names);
        Assert.All(steps, s => Assert.Equal(webhook["spanId"]!.GetValue<string>(), s["parentId"]!.GetValue<string>()));
        Assert.All(spans, s => Assert.Equal("flow-traced", s["tags"]!["lepton.tenant"]!.GetValue<string>()));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task BlobCreatedEvent_DeliveredThreeTimes_CreatesOneVersion()
    {
        // Arrange: a file ingested once
        (string key, string account) = await _client.CreateTenantAsync("flow-dedup");
        await _client.UploadAsync(key, "flow-dedup", "numbers", "n.csv", TestData.GeneratedNumeric(50));
        await _client.WaitForRunsAsync(key, "flow-dedup", "numbers");
        BlobClient blob = fixture.Host.BlobService(account).GetBlobContainerClient("ingest").GetBlobClient("numbers/n.csv");
        BlobProperties props = (await blob.GetPropertiesAsync()).Value;
        string delivery = BlobCreatedDelivery(account, blob, props.ETag.ToString().Trim('"'), props.ContentLength);

        // Act: Event Grid redelivers the same event three times
        var answers = new List<JsonNode>();
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/events/blob-created?code={DevHostProcess.FunctionKey}", null, rawBody: delivery);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            answers.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        await Task.Delay(1000);
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-dedup", "numbers");

        // Assert
        Assert.All(answers, a => Assert.True(a["runs"]![0]!["duplicate"]!.GetValue<bool>()));
        Assert.Single(dataset["versions"]!.AsArray());
        Assert.Single(dataset["runs"]!.AsArray());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task BlobCreatedEvent_DeliveredConcurrently_AtMostOneDeliveryStartsTheRun()
    {
        // Arrange: a file just uploaded (the host's own watcher delivers its event too)
        (string key, string account) = await _client.CreateTenantAsync("flow-race");
        await _client.UploadAsync(key, "flow-race", "numbers", "r.csv", TestData.GeneratedNumeric(50));
        BlobClient blob = fixture.Host.BlobService(account).GetBlobContainerClient("ingest").GetBlobClient("numbers/r.csv");
        BlobProperties props = (await blob.GetPropertiesAsync()).Value;
        string delivery = BlobCreatedDelivery(account, blob, props.ETag.ToString().Trim('"'), props.ContentLength);

        // Act: Event Grid delivers the same event four times at once
        JsonNode[] answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/events/blob-created?code={DevHostProcess.FunctionKey}", null, rawBody: delivery);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }));
        await Task.Delay(1000);
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-race", "numbers");

        // Assert: one delivery at most was told it started the run, and there is one run and one version
        Assert.True(answers.Count(a => !a["runs"]![0]!["duplicate"]!.GetValue<bool>()) <= 1);
        Assert.Single(dataset["versions"]!.AsArray());
        Assert.Single(dataset["runs"]!.AsArray());
    }

    [Theory]
    [Trait("Category", "Fault")]
    [InlineData("")]
    [InlineData("0x8DEADBEEFCAFE00")]
    public async Task BlobCreatedEvent_EmptyOrForgedETag_NeitherReingestsNorRejects(string forgedETag)
    {
        // Arrange: a file ingested once
        string tenant = forgedETag.Length == 0 ? "flow-etag-empty" : "flow-etag-forged";
        (string key, string account) = await _client.CreateTenantAsync(tenant);
        await _client.UploadAsync(key, tenant, "numbers", "n.csv", TestData.GeneratedNumeric(50));
        await _client.WaitForRunsAsync(key, tenant, "numbers");
        BlobClient blob = fixture.Host.BlobService(account).GetBlobContainerClient("ingest").GetBlobClient("numbers/n.csv");
        string delivery = BlobCreatedDelivery(account, blob, forgedETag, contentLength: 1);

        // Act
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/events/blob-created?code={DevHostProcess.FunctionKey}", null, rawBody: delivery);
        JsonNode answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        await Task.Delay(1000);
        JsonNode dataset = await _client.WaitForRunsAsync(key, tenant, "numbers");

        // Assert: the event names the content already ingested, so it is a duplicate: no second version, no false rejection
        Assert.True(answer["runs"]![0]!["duplicate"]!.GetValue<bool>(), answer.ToJsonString());
        Assert.Single(dataset["versions"]!.AsArray());
        Assert.Single(dataset["runs"]!.AsArray());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Upload_TenantDisabledMeanwhile_IsNotIngested()
    {
        // Arrange: an upload URL issued while the tenant was active
        (string key, _) = await _client.CreateTenantAsync("flow-disabled");
        JsonNode upload = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/flow-disabled/uploads", key, new { dataset = "numbers", fileName = "n.csv" }, HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Patch, "/api/tenants/flow-disabled", DevHostProcess.AdminKey, new { disabled = true });

        // Act: the file arrives after the tenant was disabled
        using var put = new HttpRequestMessage(HttpMethod.Put, upload["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(TestData.GeneratedNumeric(20)) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        using (var storage = new HttpClient())
        using (HttpResponseMessage stored = await storage.SendAsync(put))
        {
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        }

        await Task.Delay(4000);
        await _client.JsonAsync(HttpMethod.Patch, "/api/tenants/flow-disabled", DevHostProcess.AdminKey, new { disabled = false });
        JsonNode datasets = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/flow-disabled/datasets", key);

        // Assert: nothing was ingested for the disabled tenant
        Assert.Empty(datasets["datasets"]!.AsArray());
    }

    [Fact]
    public async Task Upload_ChangedFileUnderSameName_CreatesSecondVersion()
    {
        (string key, _) = await _client.CreateTenantAsync("flow-reupload");
        await _client.UploadAsync(key, "flow-reupload", "numbers", "n.csv", TestData.GeneratedNumeric(30, seed: 1));
        await _client.WaitForRunsAsync(key, "flow-reupload", "numbers");

        await _client.UploadAsync(key, "flow-reupload", "numbers", "n.csv", TestData.GeneratedNumeric(40, seed: 2));
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-reupload", "numbers", runs: 2);

        JsonArray versions = dataset["versions"]!.AsArray();
        Assert.True(versions.Count == 2, $"expected two versions: {dataset["runs"]!.ToJsonString()}");
        Assert.Equal([1, 2], versions.Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal([30, 40], versions.Select(v => v!["rows"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Upload_NumberNoFloatHolds_PublishedWithTheValueCoerced()
    {
        // Arrange: one cell of 50 is 1e300, a finite double whose square overflowed the profile (the run failed and the
        // dataset said "accepted" for good)
        string[] lines = TestData.Lines(TestData.GeneratedNumeric(50, seed: 3));
        string[] cells = lines[7].Split(',');
        cells[1] = "1e300";
        lines[7] = string.Join(',', cells);
        (string key, _) = await _client.CreateTenantAsync("flow-huge");

        // Act
        await _client.UploadAsync(key, "flow-huge", "numbers", "n.csv", System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-huge", "numbers");

        // Assert
        Assert.True(dataset["latestVersion"]!.GetValue<int>() == 1, dataset["runs"]!.ToJsonString());
        JsonNode a = dataset["selected"]!["profile"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "a")!;
        Assert.Equal("Numeric", a["kind"]!.GetValue<string>());
        Assert.True(a["max"]!.GetValue<double>() <= 100, a.ToJsonString());
    }

    [Fact]
    public async Task CleanSource_UploadOverwrittenAfterAnalysis_RejectedAsSupersededWithNothingCurated()
    {
        // Arrange: pass one has read an upload, then the partner overwrites it (a corrected file) before pass two reads it.
        // The passes are called as the ingest activities call them, so the overwrite falls between them every time.
        const string tenant = "flow-overwritten";
        (_, string account) = await _client.CreateTenantAsync(tenant);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        IngestPipeline pipeline = platform.GetRequiredService<IngestPipeline>();
        BlobContainerClient curated = fixture.Host.BlobService(account).GetBlobContainerClient("curated");
        BlobClient source = fixture.Host.BlobService(account).GetBlobContainerClient("ingest").GetBlobClient("numbers/n.csv");
        string read = (await source.UploadAsync(BinaryData.FromBytes(TestData.GeneratedNumeric(30, seed: 1)))).Value.ETag.ToString();
        var request = new IngestRequest(tenant, account, source.Name, read, "numbers", "n.csv", "test-overwritten");
        AnalysisSummary analysis = await pipeline.AnalyzeAsync(request);
        await source.UploadAsync(BinaryData.FromBytes(TestData.GeneratedNumeric(40, seed: 2)), overwrite: true);

        // Act
        CleanedVersion cleaned = await pipeline.CleanAsync(new CleanRequest(request, analysis.AnalysisBlob));
        await pipeline.RejectAsync(new RejectRequest(request, cleaned.Problems, analysis, cleaned.Version));
        AnalysisSummary again = await pipeline.AnalyzeAsync(request with { RunId = "test-overwritten-again" });

        // Assert: the partner's overwrite, said as such by either pass — not a failed step — and no curated output left
        Assert.False(analysis.IsRejected, string.Join("; ", analysis.Problems.Select(p => p.Message)));
        Assert.Equal("superseded", Assert.Single(cleaned.Problems).Code);
        Assert.Equal("superseded", Assert.Single(again.Problems).Code);
        Assert.False((await curated.GetBlobClient($"numbers/v{cleaned.Version}/data.csv").ExistsAsync()).Value);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task UploadUrl_AnyUrl_WorksOnceAndNeverOverwrites()
    {
        // Arrange: an upload URL for a name not yet taken
        (string key, _) = await _client.CreateTenantAsync("flow-once");
        JsonNode upload = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/flow-once/uploads", key, new { dataset = "once", fileName = "a.csv" }, HttpStatusCode.Created);
        string url = upload["uploadUrl"]!.GetValue<string>();
        using var storage = new HttpClient();

        // Act: the upload, then the same URL again (another file, and an append blob); then a URL for the same name again
        HttpStatusCode first = await PutAsync(storage, url, TestData.GeneratedNumeric(30, seed: 1), "BlockBlob");
        HttpStatusCode again = await PutAsync(storage, url, TestData.GeneratedNumeric(40, seed: 2), "BlockBlob");
        HttpStatusCode asAppendBlob = await PutAsync(storage, url, [], "AppendBlob");
        await _client.WaitForRunsAsync(key, "flow-once", "once");
        JsonNode second = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/flow-once/uploads", key, new { dataset = "once", fileName = "a.csv" }, HttpStatusCode.Created);
        string secondUrl = second["uploadUrl"]!.GetValue<string>();
        HttpStatusCode secondFirst = await PutAsync(storage, secondUrl, TestData.GeneratedNumeric(40, seed: 2), "BlockBlob");
        HttpStatusCode secondAgain = await PutAsync(storage, secondUrl, TestData.GeneratedNumeric(50, seed: 3), "BlockBlob");
        JsonNode dataset = await _client.WaitForRunsAsync(key, "flow-once", "once", runs: 2);

        // Assert: each URL uploads once; the taken name's new URL goes beside it, and both files are versions
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (first, again, asAppendBlob));
        Assert.Equal(("once/a.csv", "once/a-2.csv"), (upload["blob"]!.GetValue<string>(), second["blob"]!.GetValue<string>()));
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Forbidden), (secondFirst, secondAgain));
        Assert.Equal([30, 40], dataset["versions"]!.AsArray().Select(v => v!["rows"]!.GetValue<int>()).Order());
    }

    [Fact]
    public async Task UploadUrl_DatasetSettingsTwice_ReplacesTheSettingsFile()
    {
        // Arrange: a dataset's settings file, uploaded once
        (string key, _) = await _client.CreateTenantAsync("flow-spec");
        await _client.UploadAsync(key, "flow-spec", "specced", "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"a\"}"));

        // Act: new settings under the same name
        JsonNode second = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/flow-spec/uploads", key, new { dataset = "specced", fileName = "dataset.json" }, HttpStatusCode.Created);
        using var storage = new HttpClient();
        HttpStatusCode replaced = await PutAsync(storage, second["uploadUrl"]!.GetValue<string>(), Encoding.UTF8.GetBytes("{\"label\": \"b\"}"), "BlockBlob");

        // Assert: configuration keeps its fixed name (it is not data, and a numbered copy would be ignored)
        Assert.Equal(("specced/dataset.json", HttpStatusCode.Created), (second["blob"]!.GetValue<string>(), replaced));
    }

    private static async Task<HttpStatusCode> PutAsync(HttpClient storage, string url, byte[] content, string blobType)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
        put.Headers.Add("x-ms-blob-type", blobType);
        using HttpResponseMessage response = await storage.SendAsync(put);
        return response.StatusCode;
    }

    public static TheoryData<string, string, byte[]> BadFiles => new()
    {
        { "not-csv", "report.xlsx", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00] },
        { "not-csv", "binary.csv", [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF, 0x00] },
        { "empty", "empty.csv", [] },
        { "header-only", "header.csv", Encoding.UTF8.GetBytes("a,b,c\n") },
        { "ragged-rows", "ragged.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n1,2,3\n4\n5,6,7,8\n") },
        { "undecodable", "latin1.csv", [.. Encoding.ASCII.GetBytes("name,city\nJos"), 0xE9, .. Encoding.ASCII.GetBytes(",Paris\n")] },
        { "formula-injection", "formula.csv", Encoding.UTF8.GetBytes("name,amount\nalice,10\nbob,=HYPERLINK(\"http://x\")\n") },
        { "too-large", "large.csv", TestData.GeneratedNumeric(40_000) },
    };

    [Theory]
    [Trait("Category", "Fault")]
    [MemberData(nameof(BadFiles))]
    [InlineData("not-a-block-blob", "append.csv", new byte[0], "AppendBlob")]
    public async Task Upload_BadFile_IsRejectedWithReportAndNoCuratedOutput(string code, string fileName, byte[] content, string blobType = "BlockBlob")
    {
        // Arrange
        string tenant = "bad-" + code.Replace("-", "", StringComparison.Ordinal)[..Math.Min(8, code.Length - 1)] + fileName.Length;
        (string key, string account) = await _client.CreateTenantAsync(tenant);

        // Act
        await _client.UploadAsync(key, tenant, "inbox", fileName, content, blobType);
        JsonNode dataset = await _client.WaitForRunsAsync(key, tenant, "inbox");

        // Assert: the API reports the rejection and no version
        Assert.Empty(dataset["versions"]!.AsArray());
        JsonNode rejection = Assert.Single(dataset["rejections"]!.AsArray())!;
        BlobServiceClient storage = fixture.Host.BlobService(account);
        string runId = rejection["runId"]!.GetValue<string>();
        string report = (await storage.GetBlobContainerClient("rejected").GetBlobClient($"inbox/{runId}/report.txt").DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains($"[{code}]", report);
        Assert.Contains("Nothing from this file was published", report);
        Assert.True((await storage.GetBlobContainerClient("rejected").GetBlobClient($"inbox/{runId}/report.json").ExistsAsync()).Value);

        // Assert: nothing partial in the curated container
        await foreach (BlobItem blob in storage.GetBlobContainerClient("curated").GetBlobsAsync(BlobTraits.None, BlobStates.None, "inbox/", default))
        {
            Assert.Fail($"Unexpected curated blob {blob.Name}");
        }
    }

    /// <summary>The body Event Grid posts for one BlobCreated event of <paramref name="blob"/> in the tenant's ingest container.</summary>
    private static string BlobCreatedDelivery(string account, BlobClient blob, string etag, long contentLength) => $$"""
        [{ "id": "{{Guid.NewGuid()}}", "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{{account}}",
           "subject": "/blobServices/default/containers/ingest/blobs/{{blob.Name}}", "eventType": "Microsoft.Storage.BlobCreated",
           "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "", "metadataVersion": "1",
           "data": { "api": "PutBlob", "eTag": "{{etag}}", "contentLength": {{contentLength}}, "blobType": "BlockBlob", "url": "{{blob.Uri}}" } }]
        """;
}
