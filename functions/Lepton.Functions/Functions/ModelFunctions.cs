using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Orchestrations.Training;
using Lepton.Security;
using Lepton.Training;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

public sealed class ModelFunctions(TrainingStarter starter, OnlineUpdateStarter online, ModelRegistry registry)
{
    /// <summary>Online training: the production network learns from a new dataset version; 202 with the run.</summary>
    [Function(nameof(UpdateModel))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.RunReceipt))]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> UpdateModel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/models/{model}/update")] HttpRequest request,
        string tenant, string model, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        OnlineUpdateBody body = await request.ReadJsonBodyAsync<OnlineUpdateBody>(ct);
        string runId = await online.StartAsync(client, tenant, model, body, ct);
        return RunAccepted.For(runId);
    }

    /// <summary>Starts a cross-validated training run; 202 with the run id and where to follow it.</summary>
    [Function(nameof(StartTraining))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.RunReceipt))]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> StartTraining(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/models")] HttpRequest request,
        string tenant, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        StartTrainingBody body = await request.ReadJsonBodyAsync<StartTrainingBody>(ct);
        string runId = await starter.StartAsync(client, tenant, body, ct);
        return RunAccepted.For(runId);
    }

    /// <summary>The tenant's models with their latest and production versions.</summary>
    [Function(nameof(ListModels))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.ModelList))]
    [RequiresAction(LeptonAction.ReadModels)]
    public async Task<IActionResult> ListModels(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/models")] HttpRequest request, string tenant, CancellationToken ct)
    {
        IReadOnlyList<(string Model, int Latest, int? Production)> models = await registry.ListModelsAsync(tenant, ct);
        return new OkObjectResult(new ModelList(models.Select(m => new ModelListItem(m.Model, m.Latest, m.Production)).ToList()));
    }

    /// <summary>Versions with their leaderboards, configuration, lineage and stage.</summary>
    [Function(nameof(GetModel))]
    [OpenApiResponse(typeof(Lepton.Training.ModelSummary))]
    [RequiresAction(LeptonAction.ReadModels)]
    public async Task<IActionResult> GetModel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/models/{model}")] HttpRequest request,
        string tenant, string model, CancellationToken ct) =>
        new OkObjectResult(await registry.GetAsync(tenant, model, ct));

    [Function(nameof(GetModelOnnx))]
    [RequiresAction(LeptonAction.ReadModels)]
    public async Task<IActionResult> GetModelOnnx(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/models/{model}/versions/{version}/onnx")] HttpRequest request,
        string tenant, string model, string version, CancellationToken ct)
    {
        return await OnnxFileAsync(registry, tenant, model, RouteValues.Version(version), ct);
    }

    /// <summary>A version's ONNX artifact as a download, for any model owner.</summary>
    internal static async Task<IActionResult> OnnxFileAsync(ModelRegistry registry, string owner, string model, int version, CancellationToken ct)
    {
        ModelVersion found = await registry.GetVersionAsync(owner, model, version, ct);
        BinaryData onnx = (await registry.Artifact(found.OnnxBlob).DownloadContentAsync(ct)).Value.Content;
        return new FileContentResult(onnx.ToArray(), "application/octet-stream") { FileDownloadName = $"{model}-v{version}.onnx" };
    }
}
