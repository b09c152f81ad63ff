using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Lepton.Tests.Integration.Infrastructure;

/// <summary>What a partner does over HTTP: create tenants, get upload URLs, PUT files to storage, read datasets and runs.</summary>
public sealed class LeptonClient(Uri baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
    private readonly HttpClient _storage = new() { Timeout = TimeSpan.FromMinutes(5) };

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? apiKey, object? body = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        else if (rawBody is not null)
        {
            request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        }

        return await _http.SendAsync(request);
    }

    public async Task<JsonNode> JsonAsync(HttpMethod method, string path, string? apiKey, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using HttpResponseMessage response = await SendAsync(method, path, apiKey, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Creates a tenant with the platform admin key and returns its first (admin) API key.</summary>
    public async Task<(string ApiKey, string Account)> CreateTenantAsync(string tenant)
    {
        JsonNode created = await JsonAsync(HttpMethod.Post, "/api/tenants", DevHostProcess.AdminKey, new { id = tenant, name = $"Tenant {tenant}" }, HttpStatusCode.Created);
        return (created["apiKey"]!.GetValue<string>(), created["storageAccount"]!.GetValue<string>());
    }

    public async Task UploadAsync(string apiKey, string tenant, string dataset, string fileName, byte[] content, string blobType = "BlockBlob")
    {
        JsonNode upload = await JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/uploads", apiKey, new { dataset, fileName }, HttpStatusCode.Created);
        using var put = new HttpRequestMessage(HttpMethod.Put, upload["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(content) };
        put.Headers.Add("x-ms-blob-type", blobType);
        using HttpResponseMessage stored = await _storage.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
    }

    /// <summary>Polls the dataset until every run of it has ended (published or rejected) and at least <paramref name="runs"/> exist.</summary>
    public async Task<JsonNode> WaitForRunsAsync(string apiKey, string tenant, string dataset, int runs = 1, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await SendAsync(HttpMethod.Get, $"/api/tenants/{tenant}/datasets/{dataset}", apiKey);
            if (response.IsSuccessStatusCode)
            {
                last = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                JsonArray all = last["runs"]!.AsArray();
                if (all.Count >= runs && all.All(r => r!["status"]!.GetValue<string>() is "published" or "rejected"))
                {
                    return last;
                }
            }

            await Task.Delay(300);
        }

        throw new TimeoutException($"Dataset '{dataset}' of '{tenant}' did not finish ingesting. Last state: {last?.ToJsonString()}");
    }

    /// <summary>Polls GET /api/runs/{id} until the run completes; fails the test with the run's error if it fails.</summary>
    public async Task<JsonNode> WaitForRunAsync(string apiKey, string runId, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", apiKey);
            if (response.IsSuccessStatusCode)
            {
                last = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                string status = last["status"]!.GetValue<string>();
                if (status is "Completed" or "Failed" or "Terminated")
                {
                    return last;
                }
            }

            await Task.Delay(300);
        }

        throw new TimeoutException($"Run {runId} did not finish. Last state: {last?.ToJsonString()}");
    }

    public void Dispose()
    {
        _http.Dispose();
        _storage.Dispose();
    }
}
