using System.Net;
using System.Text.Json.Nodes;
using Lepton.Tenancy;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class RunControlTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    [Trait("Category", "Fault")]
    public async Task CancelRun_RunningTraining_OnlyTheOwnerStopsItOnce()
    {
        // Arrange: a long training run (every candidate, 20 folds), and keys of another tenant and of a consumer
        (string key, _) = await _client.CreateTenantAsync("cancel-owner");
        (string otherKey, _) = await _client.CreateTenantAsync("cancel-other");
        string consumer = (await _client.JsonAsync(HttpMethod.Post, "/api/tenants/cancel-owner/keys", key, new { roles = new[] { Roles.Consumer } }, HttpStatusCode.Created))["apiKey"]!.GetValue<string>();
        await _client.UploadAsync(key, "cancel-owner", "cancer", "a.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await _client.WaitForRunsAsync(key, "cancel-owner", "cancer");
        string runId = (await _client.JsonAsync(HttpMethod.Post, "/api/tenants/cancel-owner/models", key,
            new { name = "cancer", datasets = new[] { "cancer" }, label = "malignant", folds = 20 }, HttpStatusCode.Accepted))["runId"]!.GetValue<string>();

        // Act
        using HttpResponseMessage byOther = await _client.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", otherKey);
        using HttpResponseMessage byConsumer = await _client.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", consumer);
        using HttpResponseMessage byOwner = await _client.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", key);
        JsonNode run = await _client.WaitForRunAsync(key, runId, TimeSpan.FromSeconds(60));
        using HttpResponseMessage again = await _client.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", key);
        using HttpResponseMessage models = await _client.SendAsync(HttpMethod.Get, "/api/tenants/cancel-owner/models/cancer", key);

        // Assert: other tenants cannot see it, a consumer may not stop it, the owner does, once; no model was registered
        Assert.Equal(HttpStatusCode.NotFound, byOther.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byConsumer.StatusCode);
        Assert.True(byOwner.StatusCode == HttpStatusCode.Accepted, await byOwner.Content.ReadAsStringAsync());
        Assert.Equal("Terminated", run["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, models.StatusCode);
    }

    [Fact]
    public async Task CancelRun_UnknownRun_NotFound()
    {
        (string key, _) = await _client.CreateTenantAsync("cancel-unknown");

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/runs/ingest-does-not-exist/cancel", key);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
