using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Lepton.Benchmarks;

/// <summary>A Release dev host started for a benchmark, with a tenant and the HTTP calls a partner makes.</summary>
public sealed class BenchHost : IAsyncDisposable
{
    private readonly Process _process;

    private BenchHost(Process process, int port, string adminKey)
    {
        _process = process;
        Port = port;
        AdminKey = adminKey;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public int Port { get; }

    public string AdminKey { get; }

    public HttpClient Http { get; }

    public static async Task<BenchHost> StartAsync(string stateDirectory, params string[] extraArguments)
    {
        string repo = Repo;
        int port = FreePort();
        string adminKey = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { Path.Combine(repo, "functions/Lepton.DevHost/bin/Release/net10.0/Lepton.DevHost.dll"), "--port", port.ToString(), "--free-ports", "--state-dir", stateDirectory }.Concat(extraArguments))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Lepton__AdminKey"] = adminKey;
        start.Environment["Lepton__RateLimit__PermitsPerSecond"] = "1000000";
        start.Environment["Lepton__RateLimit__Burst"] = "1000000";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        Process process = Process.Start(start)!;
        var ready = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith("Lepton dev host ready", StringComparison.Ordinal) == true) { ready.TrySetResult(); } };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
        return new BenchHost(process, port, adminKey);
    }

    public async Task<string> CreateTenantAsync(string tenant) =>
        (await SendAsync(HttpMethod.Post, "/api/tenants", AdminKey, new { id = tenant, name = tenant }))["apiKey"]!.GetValue<string>();

    /// <summary>Uploads a data file to ingest, or with <paramref name="model"/> (and no dataset) a file to score in batch.</summary>
    public async Task UploadAsync(string key, string tenant, string? dataset, string fileName, byte[] content, string? model = null)
    {
        JsonNode upload = await SendAsync(HttpMethod.Post, $"/api/tenants/{tenant}/uploads", key, new { dataset, fileName, model });
        using var put = new HttpRequestMessage(HttpMethod.Put, upload["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(content) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        using HttpResponseMessage response = await Http.SendAsync(put);
        response.EnsureSuccessStatusCode();
    }

    public async Task WaitForDatasetAsync(string key, string tenant, string dataset)
    {
        while ((await SendAsync(HttpMethod.Get, $"/api/tenants/{tenant}/datasets/{dataset}", key, null, allowNotFound: true))?["latestVersion"]?.GetValue<int>() is not > 0)
        {
            await Task.Delay(300);
        }
    }

    public async Task<JsonNode> WaitForRunAsync(string key, string runId)
    {
        JsonNode run;
        do
        {
            await Task.Delay(200);
            run = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", key);
        }
        while (run["status"]!.GetValue<string>() is "Pending" or "Running");

        return run["status"]!.GetValue<string>() == "Completed" ? run : throw new InvalidOperationException($"Run failed: {run.ToJsonString()}");
    }

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, string key, object? body = null, bool allowNotFound = false)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("x-api-key", key);
        using HttpResponseMessage response = await Http.SendAsync(request);
        if (allowNotFound && response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return new JsonObject();
        }

        string text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)! : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        _process.Dispose();
    }

    public static string Repo => Lepton.DevHost.RepoRoot.Find();

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
