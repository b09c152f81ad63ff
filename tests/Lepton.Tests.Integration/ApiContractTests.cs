using System.Net;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class ApiContractTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? mustNotMention = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonNode problem = JsonNode.Parse(body)!;
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()));
        if (mustNotMention is not null)
        {
            Assert.DoesNotContain(mustNotMention, body);
        }
    }

    [Fact]
    public async Task GetHealth_StorageUp_ReportsHealthy()
    {
        JsonNode health = await _client.JsonAsync(HttpMethod.Get, "/api/health", null);

        Assert.Equal("healthy", health["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task TenantRoutes_NoKeyBadKeyOrOtherTenant_Answer401Or404WithoutLeaking()
    {
        (string ownerKey, _) = await _client.CreateTenantAsync("api-owner");
        (string otherKey, _) = await _client.CreateTenantAsync("api-other");
        await _client.UploadAsync(ownerKey, "api-owner", "secret-data", "s.csv", TestData.GeneratedNumeric(10));
        await _client.WaitForRunsAsync(ownerKey, "api-owner", "secret-data");

        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/tenants/api-owner/datasets", null), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/tenants/api-owner/datasets", "lep_0000000000000000_nope"), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/tenants/api-owner/datasets/secret-data", otherKey), HttpStatusCode.NotFound, "secret-data");
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/tenants/no-such-tenant/datasets", otherKey), HttpStatusCode.NotFound);
        await AssertProblemAsync(
            await _client.SendAsync(HttpMethod.Post, "/api/tenants/api-owner/uploads", otherKey, new { dataset = "x", fileName = "x.csv" }), HttpStatusCode.NotFound);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/tenants/api-owner/datasets", DevHostProcess.AdminKey), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task GetRun_OwnRunAndOtherTenantsRun_ShowsOwnAndHidesOther()
    {
        (string ownerKey, _) = await _client.CreateTenantAsync("run-owner");
        (string otherKey, _) = await _client.CreateTenantAsync("run-other");
        await _client.UploadAsync(ownerKey, "run-owner", "d", "d.csv", TestData.GeneratedNumeric(10));
        JsonNode dataset = await _client.WaitForRunsAsync(ownerKey, "run-owner", "d");
        string runId = dataset["runs"]![0]!["runId"]!.GetValue<string>();

        // The catalog says "published" once the version is committed; the orchestration completes a moment later.
        JsonNode run = await _client.WaitForRunAsync(ownerKey, runId);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", otherKey), HttpStatusCode.NotFound);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Get, "/api/runs/ingest-unknown", ownerKey), HttpStatusCode.NotFound);

        Assert.Equal("Completed", run["status"]!.GetValue<string>());
        Assert.Equal(3, run["progress"]!["done"]!.GetValue<int>());
        Assert.Equal(3, run["progress"]!["total"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("{\"dataset\": \"Bad Name\", \"fileName\": \"a.csv\"}")]
    [InlineData("{\"dataset\": \"ok\", \"fileName\": \"../escape.csv\"}")]
    [InlineData("{\"dataset\": \"ok\"")]
    [InlineData("")]
    public async Task CreateUpload_InvalidBody_Answers400ProblemJson(string body)
    {
        (string key, _) = await _client.CreateTenantAsync("upl-" + Math.Abs(body.GetHashCode() % 100000));

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/tenants/upl-{Math.Abs(body.GetHashCode() % 100000)}/uploads", key, rawBody: body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task JsonRoute_ChunkedBodyOverTheLimit_Answers413()
    {
        // Arrange: a body with no declared length (chunked), larger than the 1 MB limit for API bodies
        (string key, _) = await _client.CreateTenantAsync("chunky");
        byte[] body = System.Text.Encoding.UTF8.GetBytes("{\"id\": \"c\", \"name\": \"" + new string('x', 2_000_000) + "\"}");
        using var http = new HttpClient { BaseAddress = fixture.Host.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/collaborations") { Content = new StreamContent(new MemoryStream(body)) };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("x-api-key", key);

        // Act
        using HttpResponseMessage response = await http.SendAsync(request);

        // Assert
        Assert.Null(request.Content.Headers.ContentLength);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("{\"id\": \"admin\", \"name\": \"Reserved\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"id\": \"UPPER\", \"name\": \"Bad\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"id\": \"no-name\"}", HttpStatusCode.BadRequest)]
    public async Task CreateTenant_InvalidTenant_AnswersProblem(string body, HttpStatusCode status)
    {
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/tenants", DevHostProcess.AdminKey, rawBody: body);

        await AssertProblemAsync(response, status);
    }

    [Fact]
    public async Task CreateTenant_TwiceOrWithTenantKey_Answers409Or403()
    {
        (string key, _) = await _client.CreateTenantAsync("twice");

        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Post, "/api/tenants", DevHostProcess.AdminKey, new { id = "twice", name = "again" }), HttpStatusCode.Conflict);
        await AssertProblemAsync(await _client.SendAsync(HttpMethod.Post, "/api/tenants", key, new { id = "sneaky", name = "x" }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task OpenApi_Anonymous_DescribesEveryHttpFunctionWithItsSecurity()
    {
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Get, "/api/openapi.json", null);
        JsonNode document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("3.0", document["openapi"]!.GetValue<string>());
        string[] operationIds = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value!["operationId"]!.GetValue<string>())).ToArray();
        Assert.Equal(Lepton.Functions.Http.OpenApiDescription.HttpFunctions().Sum(f => f.Trigger.Methods!.Length), operationIds.Length);
        Assert.NotNull(document["components"]!["securitySchemes"]!["apiKey"]);
        Assert.Equal("apiKey", document["paths"]!["/tenants/{tenant}/models"]!["post"]!["security"]![0]!.AsObject().Single().Key);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Webhook_WithoutFunctionKey_Answers401()
    {
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, "/api/events/blob-created", null, rawBody: "[]");

        // As the Functions host answers: 401 with an empty body, before the function runs.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnmappedMethod_OnKnownRoute_Answers404LikeTheFunctionsHost()
    {
        (string key, _) = await _client.CreateTenantAsync("api-method");

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Put, "/api/tenants/api-method/datasets", key);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Webhook_SubscriptionValidation_EchoesCode()
    {
        const string handshake = """
            [{ "id": "1", "topic": "t", "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
               "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "2", "metadataVersion": "1",
               "data": { "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" } }]
            """;

        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/events/blob-created?code={DevHostProcess.FunctionKey}", null, rawBody: handshake);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["validationResponse"]!.GetValue<string>());
    }

    [Fact]
    public async Task Webhook_MalformedBody_Answers400()
    {
        using HttpResponseMessage response = await _client.SendAsync(HttpMethod.Post, $"/api/events/blob-created?code={DevHostProcess.FunctionKey}", null, rawBody: "{not json");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }
}
