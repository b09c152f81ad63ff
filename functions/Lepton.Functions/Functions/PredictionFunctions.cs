using System.Text.Json;
using Lepton.Errors;
using Lepton.Functions.Http;
using Lepton.Prediction;
using Lepton.Security;
using Lepton.Training;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Lepton.Functions.Functions;

public sealed class PredictionFunctions(PredictionService predictions, ExternalModels external, IOptions<PredictionOptions> options)
{
    /// <summary>Scores rows with the model's production version.</summary>
    [Function(nameof(Predict))]
    [OpenApiBody(typeof(PredictBody))]
    [RequiresAction(LeptonAction.Predict)]
    public Task<IActionResult> Predict(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/models/{model}/predict")] HttpRequest request,
        string tenant, string model, CancellationToken ct) =>
        ScoreAsync(request, tenant, model, null, ct);

    /// <summary>Scores rows with one named version, whatever its stage.</summary>
    [Function(nameof(PredictVersion))]
    [OpenApiBody(typeof(PredictBody))]
    [RequiresAction(LeptonAction.Predict)]
    public Task<IActionResult> PredictVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/models/{model}/versions/{version}/predict")] HttpRequest request,
        string tenant, string model, string version, CancellationToken ct) =>
        ScoreAsync(request, tenant, model, RouteValues.Version(version), ct);

    /// <summary>Registers an ONNX file trained elsewhere (body: the file; query: task, classLabels, promote) as the model's next version.</summary>
    [Function(nameof(RegisterExternalModel))]
    [OpenApiResponse(typeof(Lepton.Training.ModelVersion))]
    [OpenApiQuery("task", "binary, multiclass or regression", Required = true, Example = "binary")]
    [OpenApiQuery("classLabels", "class names, comma-separated, in the model's order")]
    [OpenApiQuery("promote", "false: register as a candidate")]
    [OpenApiBody("application/octet-stream")]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> RegisterExternalModel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/models/{model}/versions")] HttpRequest request,
        string tenant, string model, CancellationToken ct)
    {
        bool promote = !string.Equals(request.Query["promote"], "false", StringComparison.OrdinalIgnoreCase);
        ModelVersion version = await external.RegisterAsync(tenant, model, request.Query["task"], request.Query["classLabels"], promote, request.Body, request.Caller().Actor, ct);
        return new ObjectResult(version) { StatusCode = StatusCodes.Status201Created };
    }

    private Task<IActionResult> ScoreAsync(HttpRequest request, string tenant, string model, int? version, CancellationToken ct) =>
        PredictionHttp.ScoreAsync(request, predictions, options.Value, tenant, model, version, ct);
}
