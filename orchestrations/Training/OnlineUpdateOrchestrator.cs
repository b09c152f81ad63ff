using Lepton.Api;
using Lepton.Runs;
using Lepton.Errors;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Training;

/// <summary>
/// Online training of a model's production network on a new dataset version: warm-start, evaluate against the version
/// it started from, register (promoted only if not worse). Two activities, references in and out.
/// </summary>
public sealed class OnlineUpdateOrchestrator : TaskOrchestrator<OnlineUpdateRequest, TrainingOutcome>
{
    public override async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, OnlineUpdateRequest request)
    {
        context.SetCustomStatus(new RunProgress("training from the production version", 0, 2));
        OnlineUpdateResult result = await DurableCalls.CallAsync<OnlineUpdateResult>(context, nameof(TrainOnlineUpdate), request);
        context.SetCustomStatus(new RunProgress("registering", 1, 2));
        ModelVersion version = await DurableCalls.CallAsync<ModelVersion>(context, nameof(RegisterOnlineUpdate), result);
        context.SetCustomStatus(new RunProgress("done", 2, 2));
        return new TrainingOutcome(request.RunId, version.Model, version.Version, version.Stage, version.Metric, version.MetricValue, version.PromotionReason);
    }
}

/// <summary>Activity names of the online update workflow; the [Function] methods call <see cref="OnlineTraining"/> directly.</summary>
public static class TrainOnlineUpdate;

public static class RegisterOnlineUpdate;

/// <summary>Starts online updates: checked first (a network in production, a published dataset), so a bad request is a 4xx, not a failed run.</summary>
public sealed class OnlineUpdateStarter(OnlineTraining online)
{
    public async Task<string> StartAsync(DurableTaskClient client, string tenant, string model, OnlineUpdateBody body, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(body.Dataset))
        {
            throw LeptonException.BadRequest("'dataset' (\"name\" or \"name@version\": the new rows to learn from) is required.");
        }

        await online.ValidateAsync(tenant, model, body.Dataset, body.Epochs, ct);
        string runId = $"update-{tenant}-{Guid.NewGuid():N}";
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(OnlineUpdateOrchestrator), new OnlineUpdateRequest(tenant, model, body.Dataset, body.Epochs, runId),
            new StartOrchestrationOptions(runId), ct);
        return runId;
    }

    /// <summary>
    /// From ingestion (dataset.json "online": true): starts an update of the model when its production version is a
    /// network the new version's columns can feed; null when there is none to update (the caller may train a first
    /// version instead) — the version itself is published either way.
    /// </summary>
    public async Task<string?> StartFromIngestAsync(DurableTaskClient client, OnlineUpdateRequest request, CancellationToken ct = default)
    {
        try
        {
            await online.ValidateAsync(request.TenantId, request.Model, request.Dataset, request.Epochs, ct);
        }
        catch (LeptonException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.Conflict or ErrorKind.BadRequest)
        {
            return null;
        }

        await client.ScheduleOnceAsync(nameof(OnlineUpdateOrchestrator), request, request.RunId, ct);
        return request.RunId;
    }
}
