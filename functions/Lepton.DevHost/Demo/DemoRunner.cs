using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lepton.DevHost.Demo;

/// <summary>
/// The README demo, as a partner would do it over HTTP: two hospitals become tenants, each uploads its share of the
/// breast-cancer data through an upload URL, and the curated dataset summaries are printed when ingestion finishes.
/// Then they agree on a collaboration, grant it their data, train one model on both shares without either seeing the
/// other's rows, measure each one's contribution, and predict with it.
/// </summary>
public static class DemoRunner
{
    private static readonly (string Tenant, string Name, string File)[] Hospitals =
    [
        ("hospital-a", "Hospital A", "breast_cancer_hospital_a.csv"),
        ("hospital-b", "Hospital B", "breast_cancer_hospital_b.csv"),
    ];

    private const string Dataset = "breast-cancer";

    public static async Task<int> RunAsync(Uri baseUrl, string adminKey, string samples, TextWriter output, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        output.WriteLine();
        output.WriteLine("== Demo: two hospitals upload their share of the breast-cancer data ==");
        var keys = new Dictionary<string, string>();
        foreach ((string tenant, string name, string file) in Hospitals)
        {
            string key = await CreateOrReuseTenantAsync(http, adminKey, tenant, name, ct);
            keys[tenant] = key;
            await UploadAsync(http, key, tenant, "dataset.json", Path.Combine(samples, "breast-cancer.dataset.json"), ct);
            await UploadAsync(http, key, tenant, file, Path.Combine(samples, file), ct);
            output.WriteLine($"{name}: uploaded {file} as tenant '{tenant}'");
        }

        foreach ((string tenant, string name, _) in Hospitals)
        {
            JsonNode? dataset = await WaitForVersionAsync(http, keys[tenant], tenant, ct);
            if (dataset is null)
            {
                output.WriteLine($"{name}: no curated version appeared within 2 minutes; see GET /api/tenants/{tenant}/datasets/{Dataset}.");
                return 1;
            }

            PrintSummary(output, name, dataset);
        }

        return await CollaborateAsync(http, keys, output, ct);
    }

    private static async Task<int> CollaborateAsync(HttpClient http, Dictionary<string, string> keys, TextWriter output, CancellationToken ct)
    {
        const string id = "oncology";
        output.WriteLine();
        output.WriteLine("== Demo: the hospitals train one model together ==");
        string a = Hospitals[0].Tenant, b = Hospitals[1].Tenant;
        await CallAsync(http, HttpMethod.Post, "/api/collaborations", keys[a],
            new { id, name = "Oncology", members = new[] { a, b }, task = new { label = "malignant", type = "binary" }, allocation = "shapley" }, ct);
        await CallAsync(http, HttpMethod.Post, $"/api/collaborations/{id}/accept", keys[b], new { }, ct);
        foreach ((string tenant, _, _) in Hospitals)
        {
            await CallAsync(http, HttpMethod.Post, $"/api/tenants/{tenant}/datasets/{Dataset}/grants", keys[tenant],
                new { collaboration = id, purposes = new[] { "train", "evaluate" } }, ct);
        }

        output.WriteLine($"{a} proposed '{id}', {b} accepted; both granted it 'train' and 'evaluate' on '{Dataset}'");
        JsonNode started = await CallAsync(http, HttpMethod.Post, $"/api/collaborations/{id}/models", keys[a],
            new { name = "malignancy", candidates = new[] { "lbfgs-lr-l2-1", "mlp-64", "sgd-linear" }, folds = 3 }, ct);
        if (!await WaitForRunAsync(http, keys[b], started["runId"]!.GetValue<string>(), output, ct))
        {
            return 1;
        }

        JsonNode version = (await CallAsync(http, HttpMethod.Get, $"/api/collaborations/{id}/models/malignancy", keys[b], null, ct))["versions"]![0]!;
        output.WriteLine($"pooled model v{version["version"]}: {version["configuration"]!["id"]} won, cross-validated {version["metric"]} "
            + $"{version["metricValue"]!.GetValue<double>():F4}; on the held-out rows of both: "
            + string.Join(", ", version["evaluation"]!.AsObject().Select(e => $"{(e.Key == "*" ? "together" : e.Key)} {e.Value!["auc"]!.GetValue<double>():F4}")));
        JsonNode contributions = await CallAsync(http, HttpMethod.Post, $"/api/collaborations/{id}/models/malignancy/contributions", keys[b], new { }, ct);
        if (!await WaitForRunAsync(http, keys[a], contributions["runId"]!.GetValue<string>(), output, ct))
        {
            return 1;
        }

        JsonNode report = await CallAsync(http, HttpMethod.Get, contributions["reportUrl"]!.GetValue<string>(), keys[a], null, ct);
        output.WriteLine("contributions (Shapley): " + string.Join(", ", report["members"]!.AsArray().Select(m => $"{m!["member"]} {m["share"]!.GetValue<double>():F1}%")));
        output.WriteLine($"== Demo done. Try GET /api/collaborations/{id}/data, .../models/malignancy or .../ledger with a hospital's key (shown once): ==");
        foreach ((string tenant, _, _) in Hospitals)
        {
            output.WriteLine($"   {tenant}: x-api-key: {keys[tenant]}");
        }

        output.WriteLine($"   or look in the web console: {new Uri(http.BaseAddress!, "/api/console/")} (tenant and key as above)");

        return 0;
    }

    private static async Task<JsonNode> CallAsync(HttpClient http, HttpMethod method, string path, string key, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("x-api-key", key);
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        JsonNode? result = await response.Content.ReadFromJsonAsync<JsonNode>(ct);
        return response.IsSuccessStatusCode ? result! : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {result?["detail"]}");
    }

    private static async Task<bool> WaitForRunAsync(HttpClient http, string key, string runId, TextWriter output, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            JsonNode run = await CallAsync(http, HttpMethod.Get, $"/api/runs/{runId}", key, null, ct);
            switch (run["status"]!.GetValue<string>())
            {
                case "Completed":
                    return true;
                case "Failed" or "Terminated":
                    output.WriteLine($"run {runId} failed: {run["error"]}");
                    return false;
            }

            await Task.Delay(500, ct);
        }

        output.WriteLine($"run {runId} did not finish in 3 minutes; follow it at /api/runs/{runId}");
        return false;
    }

    private static async Task<string> CreateOrReuseTenantAsync(HttpClient http, string adminKey, string tenant, string name, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tenants") { Content = JsonContent.Create(new { id = tenant, name }) };
        request.Headers.Add("x-api-key", adminKey);
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        JsonNode body = (await response.Content.ReadFromJsonAsync<JsonNode>(ct))!;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating tenant '{tenant}' failed: {(int)response.StatusCode} {body["detail"]}. (With --persist, the demo needs a fresh state folder.)");
        }

        return body["apiKey"]!.GetValue<string>();
    }

    private static async Task UploadAsync(HttpClient http, string key, string tenant, string fileName, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/tenants/{tenant}/uploads")
        {
            Content = JsonContent.Create(new { dataset = Dataset, fileName }),
        };
        request.Headers.Add("x-api-key", key);
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        string uploadUrl = (await response.Content.ReadFromJsonAsync<JsonNode>(ct))!["uploadUrl"]!.GetValue<string>();

        // The upload goes straight to storage with the valet key, as `curl -X PUT` would.
        await using FileStream file = File.OpenRead(path);
        using var put = new HttpRequestMessage(HttpMethod.Put, uploadUrl) { Content = new StreamContent(file) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(fileName.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "text/csv");
        using var storage = new HttpClient();
        using HttpResponseMessage stored = await storage.SendAsync(put, ct);
        stored.EnsureSuccessStatusCode();
    }

    private static async Task<JsonNode?> WaitForVersionAsync(HttpClient http, string key, string tenant, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tenants/{tenant}/datasets/{Dataset}");
            request.Headers.Add("x-api-key", key);
            using HttpResponseMessage response = await http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode)
            {
                JsonNode? body = await response.Content.ReadFromJsonAsync<JsonNode>(ct);
                if (body?["latestVersion"]?.GetValue<int>() > 0)
                {
                    return body;
                }
            }

            await Task.Delay(500, ct);
        }

        return null;
    }

    private static void PrintSummary(TextWriter output, string name, JsonNode dataset)
    {
        JsonNode selected = dataset["selected"]!;
        JsonNode version = selected["version"]!;
        JsonNode quality = selected["quality"]!;
        JsonNode changes = quality["changes"]!;
        output.WriteLine();
        output.WriteLine($"{name} — dataset '{Dataset}' v{version["version"]}: {quality["rowsIn"]} rows in, {quality["rowsOut"]} rows out, {version["columns"]} columns");
        output.WriteLine($"  label: {version["label"]} (task {version["task"]}); source sha256 {version["sourceSha256"]?.GetValue<string>()[..16]}…");
        output.WriteLine($"  cleaning: {changes["duplicateRowsDropped"]} duplicate rows dropped, {changes["valuesImputed"]} values imputed, " +
            $"{changes["outliersClipped"]} outliers clipped, {changes["invalidValuesCoerced"]} invalid values, {changes["raggedRowsDropped"]} ragged rows");
        output.WriteLine($"  {"column",-24} {"kind",-8} {"missing",7} {"mean",10} {"std",10} {"min",10} {"max",10}");
        foreach (JsonNode? column in selected["profile"]!.AsArray().Take(6))
        {
            output.WriteLine($"  {column!["name"],-24} {column["kind"],-8} {column["missing"],7} {Num(column["mean"]),10} {Num(column["std"]),10} {Num(column["min"]),10} {Num(column["max"]),10}");
        }

        JsonNode? label = selected["profile"]!.AsArray().FirstOrDefault(c => c?["name"]?.GetValue<string>() == version["label"]?.GetValue<string>());
        if (label is not null)
        {
            string counts = string.Join(", ", label["topValues"]!.AsArray().Select(v => $"{v!["value"]}: {v["count"]}"));
            output.WriteLine($"  {label["name"],-24} {label["kind"],-8} {label["missing"],7}   classes {counts}");
        }
    }

    private static string Num(JsonNode? node) => node is null ? "" : node.GetValue<double>().ToString("G5", System.Globalization.CultureInfo.InvariantCulture);
}
