using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Tests.Integration.Infrastructure;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Models;
using Microsoft.OpenApi.Writers;

namespace Lepton.Tests.Integration;

/// <summary>
/// The API description as a contract: the world its examples name is built on a host of its own, then every route gets
/// the request the description shows (path and query examples, the body example) and must answer a status the
/// description documents — its success status for every read, a documented success or a problem+json answer for every
/// change, never a 5xx.
/// </summary>
[Collection(OwnDevHostCollection.Name)]
public sealed class ApiDescriptionContractTests() : OwnDevHost(new Dictionary<string, string>())
{
    [Fact]
    public async Task EveryRoute_RequestFromTheDescriptionsExamples_GetsADocumentedStatus()
    {
        // Arrange: the example world — two hospitals, their data, a model, the collaboration "oncology" with its model and contributions
        using var client = new LeptonClient(Host.BaseUrl);
        (string a, _) = await client.CreateTenantAsync(ApiExamples.Tenant);
        (string b, _) = await client.CreateTenantAsync(ApiExamples.Partner);
        foreach ((string tenant, string key, string file) in new[] { (ApiExamples.Tenant, a, "breast_cancer_hospital_a.csv"), (ApiExamples.Partner, b, "breast_cancer_hospital_b.csv") })
        {
            await client.UploadAsync(key, tenant, ApiExamples.Dataset, file, TestData.Sample(file));
            await client.WaitForRunsAsync(key, tenant, ApiExamples.Dataset);
        }

        string trainRun = (await client.JsonAsync(HttpMethod.Post, $"/api/tenants/{ApiExamples.Tenant}/models", a,
            ApiExamples.Bodies[typeof(StartTrainingBody)], HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        await client.WaitForRunAsync(a, trainRun);
        await client.JsonAsync(HttpMethod.Post, "/api/collaborations", a, new CollaborationProposal(ApiExamples.Collaboration, null, [ApiExamples.Tenant, ApiExamples.Partner],
            new CollaborationTaskBody(ApiExamples.Label, null, null), null, null, null), HttpStatusCode.Created);
        await client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{ApiExamples.Collaboration}/accept", b, new { });
        await client.JsonAsync(HttpMethod.Post, $"/api/tenants/{ApiExamples.Partner}/datasets/{ApiExamples.Dataset}/grants", b,
            ApiExamples.Bodies[typeof(GrantRequest)], HttpStatusCode.Created);
        string grantId = (await client.JsonAsync(HttpMethod.Post, $"/api/tenants/{ApiExamples.Tenant}/datasets/{ApiExamples.Dataset}/grants", a,
            ApiExamples.Bodies[typeof(GrantRequest)], HttpStatusCode.Created))["grantId"]!.GetValue<string>();
        await client.WaitForRunAsync(a, (await client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{ApiExamples.Collaboration}/models", a,
            ApiExamples.Bodies[typeof(StartCollaborationTrainingBody)], HttpStatusCode.Accepted))["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        string contribution = (await client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{ApiExamples.Collaboration}/models/{ApiExamples.Model}/contributions", a,
            ApiExamples.Bodies[typeof(ContributionBody)], HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        await client.WaitForRunAsync(a, contribution, TimeSpan.FromMinutes(3));
        string keyId = (await client.JsonAsync(HttpMethod.Post, $"/api/tenants/{ApiExamples.Tenant}/keys", a, ApiExamples.Bodies[typeof(CreateKeyBody)],
            HttpStatusCode.Created))["keyId"]!.GetValue<string>();
        var made = new Dictionary<string, string> { ["runId"] = trainRun, ["grantId"] = grantId, ["contribution"] = contribution, ["keyId"] = keyId };

        // Act: every operation, reads first, removals last (so the rest still finds the world)
        var failures = new List<string>();
        int shapesChecked = 0;
        var operations = OpenApiDescription.Current.Paths
            .SelectMany(p => p.Value.Operations.Select(o => (Path: p.Key, Verb: o.Key, Operation: o.Value)))
            .Where(o => o.Verb != OperationType.Options)
            .OrderBy(o => o.Verb switch { OperationType.Get => 0, OperationType.Delete => 2, _ => 1 });
        foreach ((string path, OperationType verb, OpenApiOperation operation) in operations)
        {
            string url = "/api" + System.Text.RegularExpressions.Regex.Replace(path, @"\{(\w+)\}", m =>
                operation.Parameters.First(p => p.Name == m.Groups[1].Value).Example is OpenApiString s ? s.Value : made[m.Groups[1].Value]);
            string[] query = operation.Parameters.Where(p => p.In == ParameterLocation.Query && p.Required)
                .Select(p => $"{p.Name}={Uri.EscapeDataString(((OpenApiString)p.Example).Value)}").ToArray();
            bool functionKey = operation.Security.Any(s => s.Keys.Any(k => k.Reference.Id == OpenApiDescription.FunctionKeyScheme));
            if (functionKey)
            {
                query = [.. query, $"code={DevHostProcess.FunctionKey}"];
            }

            url += query.Length > 0 ? "?" + string.Join('&', query) : "";
            string? apiKey = !operation.Security.Any(s => s.Keys.Any(k => k.Reference.Id == OpenApiDescription.ApiKeyScheme)) ? null
                : operation.Extensions.TryGetValue("x-lepton-action", out Microsoft.OpenApi.Interfaces.IOpenApiExtension? action) && action is OpenApiString { Value: "ManageTenants" }
                    ? DevHostProcess.AdminKey
                : a;
            string? body = operation.RequestBody?.Content.Values.First().Example is { } example ? Json(example)
                : operation.RequestBody?.Content.ContainsKey("application/json") == true ? "{}" : null;

            using HttpResponseMessage response = await client.SendAsync(new HttpMethod(verb.ToString().ToUpperInvariant()), url, apiKey, rawBody: body);
            string status = ((int)response.StatusCode).ToString();
            bool documentedSuccess = operation.Responses.ContainsKey(status);
            bool problem = (int)response.StatusCode is >= 400 and < 500 && response.Content.Headers.ContentType?.MediaType == ProblemMapping.ContentType
                || (functionKey && response.StatusCode == HttpStatusCode.BadRequest);
            string text = await response.Content.ReadAsStringAsync();
            if (verb == OperationType.Get ? !documentedSuccess : !(documentedSuccess || problem))
            {
                failures.Add($"{verb} {url} ({operation.OperationId}): {status} {Truncate(text)}");
            }
            else if (documentedSuccess && operation.Responses[status].Content.TryGetValue("application/json", out OpenApiMediaType? media) && media.Schema.Reference is not null)
            {
                // The answer must have the shape the description gives it.
                var problems = new List<string>();
                Conforms(JsonNode.Parse(text), media.Schema, "$", problems, 0);
                shapesChecked++;
                failures.AddRange(problems.Take(5).Select(p => $"{verb} {url} ({operation.OperationId}) answers another shape: {p}"));
            }
        }

        // Assert
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(shapesChecked >= 15, $"only {shapesChecked} answers were checked against their schema");
    }

    /// <summary>Whether a JSON value has a schema's shape: types, and required properties present and not null.</summary>
    private static void Conforms(JsonNode? value, OpenApiSchema schema, string at, List<string> problems, int depth)
    {
        if (depth > 12)
        {
            return;
        }

        if (schema.Reference is { } reference)
        {
            schema = OpenApiDescription.Current.Components.Schemas[reference.Id];
        }

        if (value is null)
        {
            return;
        }

        switch (schema.Type)
        {
            case "object" when schema.Properties.Count > 0:
                if (value is not JsonObject obj)
                {
                    problems.Add($"{at} is {value.GetValueKind()}, not an object");
                    return;
                }

                foreach (string required in schema.Required.Where(r => obj[r] is null))
                {
                    problems.Add($"{at}.{required} is missing or null");
                }

                foreach ((string name, OpenApiSchema property) in schema.Properties)
                {
                    Conforms(obj[name], property, $"{at}.{name}", problems, depth + 1);
                }

                break;
            case "object" when schema.AdditionalProperties is { } values:
                if (value is JsonObject map)
                {
                    foreach ((string name, JsonNode? item) in map)
                    {
                        Conforms(item, values, $"{at}.{name}", problems, depth + 1);
                    }
                }
                else
                {
                    problems.Add($"{at} is {value.GetValueKind()}, not an object");
                }

                break;
            case "array":
                if (value is JsonArray items)
                {
                    foreach ((JsonNode? item, int i) in items.Take(20).Select((x, i) => (x, i)))
                    {
                        Conforms(item, schema.Items, $"{at}[{i}]", problems, depth + 1);
                    }
                }
                else
                {
                    problems.Add($"{at} is {value.GetValueKind()}, not an array");
                }

                break;
            case "string" when value.GetValueKind() != System.Text.Json.JsonValueKind.String:
            case "boolean" when value.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False):
            case "number" or "integer" when value.GetValueKind() != System.Text.Json.JsonValueKind.Number:
                problems.Add($"{at} is {value.GetValueKind()}, not {schema.Type}");
                break;
        }
    }

    private static string Json(IOpenApiAny example)
    {
        var text = new StringWriter();
        example.Write(new OpenApiJsonWriter(text), OpenApiSpecVersion.OpenApi3_0);
        return text.ToString();
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}
