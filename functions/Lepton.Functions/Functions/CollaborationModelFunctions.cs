using Lepton.Api;
using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Functions.Http;
using Lepton.Orchestrations.Collaborations;
using Lepton.Prediction;
using Lepton.Security;
using Lepton.Training;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Lepton.Functions.Functions;

/// <summary>
/// A collaboration's models, serving, contributions and ledger. The models live in the collaboration's registry namespace;
/// any member predicts with its own key and is metered for it.
/// </summary>
public sealed class CollaborationModelFunctions(
    CollaborationStore collaborations, ModelRegistry registry, PredictionService predictions, IOptions<PredictionOptions> options,
    ContributionService contributions, CollaborationStarter starter, CollaborationLedger ledger)
{
    [Function(nameof(GetCollaborationModel))]
    [OpenApiResponse(typeof(Lepton.Training.ModelSummary))]
    [RequiresAction(LeptonAction.ReadModels)]
    public async Task<IActionResult> GetCollaborationModel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/models/{model}")] HttpRequest request,
        string collaboration, string model, CancellationToken ct) =>
        new OkObjectResult(await registry.GetAsync(ModelOwners.ForCollaboration(collaboration), model, ct));

    [Function(nameof(GetCollaborationModelOnnx))]
    [RequiresAction(LeptonAction.ReadModels)]
    public Task<IActionResult> GetCollaborationModelOnnx(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/models/{model}/versions/{version}/onnx")] HttpRequest request,
        string collaboration, string model, string version, CancellationToken ct) =>
        ModelFunctions.OnnxFileAsync(registry, ModelOwners.ForCollaboration(collaboration), model, RouteValues.Version(version), ct);

    [Function(nameof(PredictCollaboration))]
    [OpenApiBody(typeof(PredictBody))]
    [RequiresAction(LeptonAction.Predict)]
    public Task<IActionResult> PredictCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/models/{model}/predict")] HttpRequest request,
        string collaboration, string model, CancellationToken ct) =>
        PredictionHttp.ScoreAsync(request, predictions, options.Value, ModelOwners.ForCollaboration(collaboration), model, null, ct);

    [Function(nameof(PredictCollaborationVersion))]
    [OpenApiBody(typeof(PredictBody))]
    [RequiresAction(LeptonAction.Predict)]
    public Task<IActionResult> PredictCollaborationVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/models/{model}/versions/{version}/predict")] HttpRequest request,
        string collaboration, string model, string version, CancellationToken ct) =>
        PredictionHttp.ScoreAsync(request, predictions, options.Value, ModelOwners.ForCollaboration(collaboration), model, RouteValues.Version(version), ct);

    /// <summary>Starts a contribution run (Shapley, Banzhaf, leave-one-out or proportional); 202 with the run and the report's id.</summary>
    [Function(nameof(StartContributions))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.RunReceipt))]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> StartContributions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/models/{model}/contributions")] HttpRequest request,
        string collaboration, string model, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        ContributionBody body = await request.ReadJsonBodyAsync<ContributionBody>(ct);
        Caller caller = request.Caller();
        Collaboration c = await collaborations.GetForMemberAsync(collaboration, caller.TenantId, ct);
        string runId = await starter.StartContributionsAsync(client, c, model, body, caller.TenantId!, caller.Actor, ct);
        string reportUrl = $"/api/collaborations/{collaboration}/models/{model}/contributions/{runId}";
        return RunAccepted.For(runId, reportUrl);
    }

    [Function(nameof(ListContributions))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.ContributionList))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> ListContributions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/models/{model}/contributions")] HttpRequest request,
        string collaboration, string model, CancellationToken ct) =>
        new OkObjectResult(new ContributionList(await contributions.ListAsync(collaboration, model, ct)));

    [Function(nameof(GetContributions))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Contributions.ContributionReport))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> GetContributions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/models/{model}/contributions/{contribution}")] HttpRequest request,
        string collaboration, string model, string contribution, CancellationToken ct) =>
        new OkObjectResult(await ReportOfModelAsync(collaboration, model, contribution, ct));

    /// <summary>Recomputes values and shares from the stored coalition table.</summary>
    [Function(nameof(VerifyContributions))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Contributions.ContributionVerification))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> VerifyContributions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/models/{model}/contributions/{contribution}/verify")] HttpRequest request,
        string collaboration, string model, string contribution, CancellationToken ct)
    {
        await ReportOfModelAsync(collaboration, model, contribution, ct);
        return new OkObjectResult(await contributions.VerifyAsync(collaboration, contribution, ct));
    }

    [Function(nameof(GetLedger))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Ledger))]
    [OpenApiQuery("from", "start of the period (ISO 8601; default: the first use)")]
    [OpenApiQuery("to", "end of the period (ISO 8601; default: now)")]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> GetLedger(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/ledger")] HttpRequest request,
        string collaboration, CancellationToken ct)
    {
        Collaboration c = await collaborations.GetForMemberAsync(collaboration, request.Caller().TenantId, ct);
        return new OkObjectResult(await ledger.GetAsync(c, QueryTime(request, "from"), QueryTime(request, "to"), ct));
    }

    /// <summary>Settles a closed period once (201); asking again returns the same statement (200).</summary>
    [Function(nameof(SettleCollaboration))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Settlement))]
    [RequiresAction(LeptonAction.ManageCollaboration)]
    public async Task<IActionResult> SettleCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/settlements")] HttpRequest request,
        string collaboration, CancellationToken ct)
    {
        SettlementBody body = await request.ReadJsonBodyAsync<SettlementBody>(ct);
        Collaboration c = await collaborations.GetForMemberAsync(collaboration, request.Caller().TenantId, ct);
        (Settlement settlement, bool created) = await ledger.SettleAsync(c, body.Period, request.Caller().Actor, ct);
        return new ObjectResult(settlement) { StatusCode = created ? StatusCodes.Status201Created : StatusCodes.Status200OK };
    }

    private async Task<ContributionReport> ReportOfModelAsync(string collaboration, string model, string id, CancellationToken ct)
    {
        ContributionReport report = await contributions.GetAsync(collaboration, id, ct);
        return report.Model == model ? report : throw Errors.LeptonException.NotFound($"Contribution report '{id}' was not found for model '{model}'.");
    }

    private static DateTimeOffset? QueryTime(HttpRequest request, string name) =>
        request.Query[name].FirstOrDefault() is not { } text ? null
        : DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t
        : throw Errors.LeptonException.BadRequest($"'{name}' must be a date and time (ISO 8601), such as 2026-11-01 or 2026-11-01T12:00:00Z.");
}
