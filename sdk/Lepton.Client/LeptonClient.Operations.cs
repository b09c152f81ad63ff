using System.Text.Json;
using Lepton.Api;

namespace Lepton.Client;

// One method per API operation; the attribute names the OpenAPI operationId it calls.
public sealed partial class LeptonClient
{
    // Platform

    [ApiOperation("GetHealth")]
    public Task<JsonElement> GetHealthAsync(CancellationToken ct = default) => GetJsonAsync("health", ct);

    [ApiOperation("GetOpenApi")]
    public Task<JsonElement> GetOpenApiAsync(CancellationToken ct = default) => GetJsonAsync("openapi.json", ct);

    // Tenants and keys

    [ApiOperation("CreateTenant")]
    public Task<JsonElement> CreateTenantAsync(CreateTenantBody body, CancellationToken ct = default) => JsonAsync<JsonElement>(HttpMethod.Post, "tenants", body, ct);

    [ApiOperation("GetTenant")]
    public Task<JsonElement> GetTenantAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}", ct);

    [ApiOperation("UpdateTenant")]
    public Task<JsonElement> UpdateTenantAsync(string tenant, UpdateTenantBody body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Patch, $"tenants/{E(tenant)}", body, ct);

    [ApiOperation("CreateKey")]
    public Task<JsonElement> CreateKeyAsync(string tenant, CreateKeyBody body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"tenants/{E(tenant)}/keys", body, ct);

    [ApiOperation("ListKeys")]
    public Task<JsonElement> ListKeysAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/keys", ct);

    [ApiOperation("RevokeKey")]
    public Task RevokeKeyAsync(string tenant, string keyId, CancellationToken ct = default) => SendOnlyAsync(HttpMethod.Delete, $"tenants/{E(tenant)}/keys/{E(keyId)}", null, ct);

    // Data

    [ApiOperation("CreateUpload")]
    public Task<UploadTarget> CreateUploadAsync(string tenant, CreateUploadBody body, CancellationToken ct = default) =>
        JsonAsync<UploadTarget>(HttpMethod.Post, $"tenants/{E(tenant)}/uploads", body, ct);

    /// <summary>Asks for an upload URL and streams the file to it, reporting bytes sent; ingest starts when it lands.</summary>
    public async Task UploadFileAsync(string tenant, string dataset, string path, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        UploadTarget target = await CreateUploadAsync(tenant, new CreateUploadBody(dataset, Path.GetFileName(path)), ct);
        await using FileStream file = File.OpenRead(path);
        await UploadToAsync(target, file, file.Length, progress, ct);
    }

    [ApiOperation("ListDatasets")]
    public Task<JsonElement> ListDatasetsAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/datasets", ct);

    [ApiOperation("GetDataset")]
    public Task<JsonElement> GetDatasetAsync(string tenant, string dataset, int? version = null, CancellationToken ct = default) =>
        GetJsonAsync($"tenants/{E(tenant)}/datasets/{E(dataset)}" + (version is { } v ? $"?version={v}" : ""), ct);

    /// <summary>Waits until the dataset has at least <paramref name="runs"/> ingest runs and none is still going; returns the dataset.</summary>
    public async Task<JsonElement> WaitForDatasetAsync(string tenant, string dataset, int runs = 1, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout ?? TimeSpan.FromMinutes(10));
        while (true)
        {
            try
            {
                JsonElement current = await GetDatasetAsync(tenant, dataset, ct: deadline.Token);
                JsonElement[] all = current.GetProperty("runs").EnumerateArray().ToArray();
                if (all.Length >= runs && all.All(r => r.GetProperty("status").GetString() is "published" or "rejected"))
                {
                    return current;
                }
            }
            catch (LeptonNotFoundException)
            {
                // Not yet: the upload's event has not arrived.
            }

            await Task.Delay(_options.PollInterval, deadline.Token);
        }
    }

    [ApiOperation("CreateGrant")]
    public Task<JsonElement> CreateGrantAsync(string tenant, string dataset, GrantRequest body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"tenants/{E(tenant)}/datasets/{E(dataset)}/grants", body, ct);

    [ApiOperation("ListGrants")]
    public Task<JsonElement> ListGrantsAsync(string tenant, string dataset, CancellationToken ct = default) =>
        GetJsonAsync($"tenants/{E(tenant)}/datasets/{E(dataset)}/grants", ct);

    [ApiOperation("RevokeGrant")]
    public Task RevokeGrantAsync(string tenant, string dataset, string grantId, CancellationToken ct = default) =>
        SendOnlyAsync(HttpMethod.Delete, $"tenants/{E(tenant)}/datasets/{E(dataset)}/grants/{E(grantId)}", null, ct);

    // Runs

    [ApiOperation("GetRun")]
    public Task<Run> GetRunAsync(string runId, CancellationToken ct = default) => JsonAsync<Run>(HttpMethod.Get, $"runs/{E(runId)}", null, ct);

    [ApiOperation("CancelRun")]
    public Task<Run> CancelRunAsync(string runId, CancellationToken ct = default) => JsonAsync<Run>(HttpMethod.Post, $"runs/{E(runId)}/cancel", null, ct);

    /// <summary>Polls a run until it ends, reporting each state it sees (stage, folds or rounds done of total).</summary>
    public async Task<Run> WaitForRunAsync(string runId, IProgress<Run>? progress = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout ?? TimeSpan.FromHours(2));
        while (true)
        {
            Run run = await GetRunAsync(runId, deadline.Token);
            progress?.Report(run);
            if (run.IsFinished)
            {
                return run;
            }

            await Task.Delay(_options.PollInterval, deadline.Token);
        }
    }

    // Models

    [ApiOperation("StartTraining")]
    public Task<RunStarted> StartTrainingAsync(string tenant, StartTrainingBody body, CancellationToken ct = default) =>
        JsonAsync<RunStarted>(HttpMethod.Post, $"tenants/{E(tenant)}/models", body, ct);

    [ApiOperation("ListModels")]
    public Task<JsonElement> ListModelsAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/models", ct);

    [ApiOperation("GetModel")]
    public Task<JsonElement> GetModelAsync(string tenant, string model, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/models/{E(model)}", ct);

    [ApiOperation("UpdateModel")]
    public Task<RunStarted> UpdateModelAsync(string tenant, string model, OnlineUpdateBody body, CancellationToken ct = default) =>
        JsonAsync<RunStarted>(HttpMethod.Post, $"tenants/{E(tenant)}/models/{E(model)}/update", body, ct);

    [ApiOperation("GetModelOnnx")]
    public Task<byte[]> GetModelOnnxAsync(string tenant, string model, int version, CancellationToken ct = default) =>
        BytesAsync($"tenants/{E(tenant)}/models/{E(model)}/versions/{version}/onnx", ct);

    [ApiOperation("Predict")]
    public Task<JsonElement> PredictAsync(string tenant, string model, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"tenants/{E(tenant)}/models/{E(model)}/predict", new { rows }, ct);

    [ApiOperation("PredictVersion")]
    public Task<JsonElement> PredictVersionAsync(string tenant, string model, int version, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"tenants/{E(tenant)}/models/{E(model)}/versions/{version}/predict", new { rows }, ct);

    [ApiOperation("RegisterExternalModel")]
    public async Task<JsonElement> RegisterExternalModelAsync(string tenant, string model, byte[] onnx, string task, IReadOnlyList<string>? classLabels = null,
        bool promote = true, CancellationToken ct = default)
    {
        var content = new ByteArrayContent(onnx);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        string query = $"?task={E(task)}&promote={(promote ? "true" : "false")}" + (classLabels is { Count: > 0 } ? $"&classLabels={E(string.Join(',', classLabels))}" : "");
        using HttpResponseMessage response = await SendAsync(HttpMethod.Post, $"tenants/{E(tenant)}/models/{E(model)}/versions{query}", null, ct, content);
        return await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<JsonElement>(response.Content, Json, ct);
    }

    // Collaborations

    [ApiOperation("ProposeCollaboration")]
    public Task<JsonElement> ProposeCollaborationAsync(CollaborationProposal body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, "collaborations", body, ct);

    [ApiOperation("ListCollaborations")]
    public Task<JsonElement> ListCollaborationsAsync(CancellationToken ct = default) => GetJsonAsync("collaborations", ct);

    [ApiOperation("GetCollaboration")]
    public Task<JsonElement> GetCollaborationAsync(string collaboration, CancellationToken ct = default) => GetJsonAsync($"collaborations/{E(collaboration)}", ct);

    [ApiOperation("AcceptCollaboration")]
    public Task<JsonElement> AcceptCollaborationAsync(string collaboration, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"collaborations/{E(collaboration)}/accept", new { }, ct);

    [ApiOperation("ChangeCollaboration")]
    public Task<JsonElement> ChangeCollaborationAsync(string collaboration, CollaborationChange body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Patch, $"collaborations/{E(collaboration)}", body, ct);

    [ApiOperation("LeaveCollaboration")]
    public Task<JsonElement> LeaveCollaborationAsync(string collaboration, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"collaborations/{E(collaboration)}/leave", new { }, ct);

    [ApiOperation("GetCollaborationData")]
    public Task<JsonElement> GetCollaborationDataAsync(string collaboration, CancellationToken ct = default) => GetJsonAsync($"collaborations/{E(collaboration)}/data", ct);

    [ApiOperation("StartCollaborationTraining")]
    public Task<RunStarted> StartCollaborationTrainingAsync(string collaboration, StartCollaborationTrainingBody body, CancellationToken ct = default) =>
        JsonAsync<RunStarted>(HttpMethod.Post, $"collaborations/{E(collaboration)}/models", body, ct);

    [ApiOperation("GetCollaborationModel")]
    public Task<JsonElement> GetCollaborationModelAsync(string collaboration, string model, CancellationToken ct = default) =>
        GetJsonAsync($"collaborations/{E(collaboration)}/models/{E(model)}", ct);

    [ApiOperation("GetCollaborationModelOnnx")]
    public Task<byte[]> GetCollaborationModelOnnxAsync(string collaboration, string model, int version, CancellationToken ct = default) =>
        BytesAsync($"collaborations/{E(collaboration)}/models/{E(model)}/versions/{version}/onnx", ct);

    [ApiOperation("PredictCollaboration")]
    public Task<JsonElement> PredictCollaborationAsync(string collaboration, string model, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"collaborations/{E(collaboration)}/models/{E(model)}/predict", new { rows }, ct);

    [ApiOperation("PredictCollaborationVersion")]
    public Task<JsonElement> PredictCollaborationVersionAsync(string collaboration, string model, int version, IEnumerable<IReadOnlyDictionary<string, object?>> rows,
        CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"collaborations/{E(collaboration)}/models/{E(model)}/versions/{version}/predict", new { rows }, ct);

    [ApiOperation("StartContributions")]
    public Task<RunStarted> StartContributionsAsync(string collaboration, string model, ContributionBody body, CancellationToken ct = default) =>
        JsonAsync<RunStarted>(HttpMethod.Post, $"collaborations/{E(collaboration)}/models/{E(model)}/contributions", body, ct);

    [ApiOperation("ListContributions")]
    public Task<JsonElement> ListContributionsAsync(string collaboration, string model, CancellationToken ct = default) =>
        GetJsonAsync($"collaborations/{E(collaboration)}/models/{E(model)}/contributions", ct);

    [ApiOperation("GetContributions")]
    public Task<JsonElement> GetContributionsAsync(string collaboration, string model, string contribution, CancellationToken ct = default) =>
        GetJsonAsync($"collaborations/{E(collaboration)}/models/{E(model)}/contributions/{E(contribution)}", ct);

    [ApiOperation("VerifyContributions")]
    public Task<JsonElement> VerifyContributionsAsync(string collaboration, string model, string contribution, CancellationToken ct = default) =>
        GetJsonAsync($"collaborations/{E(collaboration)}/models/{E(model)}/contributions/{E(contribution)}/verify", ct);

    [ApiOperation("GetLedger")]
    public Task<JsonElement> GetLedgerAsync(string collaboration, CancellationToken ct = default) => GetJsonAsync($"collaborations/{E(collaboration)}/ledger", ct);

    [ApiOperation("SettleCollaboration")]
    public Task<JsonElement> SettleCollaborationAsync(string collaboration, SettlementBody body, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"collaborations/{E(collaboration)}/settlements", body, ct);

    // Audit

    [ApiOperation("ListAudit")]
    public Task<JsonElement> ListAuditAsync(string tenant, long from = 1, int max = 100, CancellationToken ct = default) =>
        GetJsonAsync($"tenants/{E(tenant)}/audit?from={from}&max={max}", ct);

    [ApiOperation("VerifyAudit")]
    public Task<JsonElement> VerifyAuditAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/audit/verify", ct);

    [ApiOperation("ListAuditHeads")]
    public Task<JsonElement> ListAuditHeadsAsync(string tenant, CancellationToken ct = default) => GetJsonAsync($"tenants/{E(tenant)}/audit/heads", ct);

    [ApiOperation("SignAuditHead")]
    public Task<JsonElement> SignAuditHeadAsync(string tenant, CancellationToken ct = default) =>
        JsonAsync<JsonElement>(HttpMethod.Post, $"tenants/{E(tenant)}/audit/heads", new { }, ct);

    [ApiOperation("ProveAuditInclusion")]
    public Task<JsonElement> ProveAuditInclusionAsync(string tenant, long seq, long? size = null, CancellationToken ct = default) =>
        GetJsonAsync($"tenants/{E(tenant)}/audit/proofs/inclusion?seq={seq}" + (size is { } s ? $"&size={s}" : ""), ct);

    [ApiOperation("ProveAuditConsistency")]
    public Task<JsonElement> ProveAuditConsistencyAsync(string tenant, long from, long? to = null, CancellationToken ct = default) =>
        GetJsonAsync($"tenants/{E(tenant)}/audit/proofs/consistency?from={from}" + (to is { } t ? $"&to={t}" : ""), ct);

    [ApiOperation("GetAuditSigningKey")]
    public Task<JsonElement> GetAuditSigningKeyAsync(CancellationToken ct = default) => GetJsonAsync("audit/signing-key", ct);

    private async Task<byte[]> BytesAsync(string path, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Get, path, null, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }
}
