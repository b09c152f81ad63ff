using Lepton.Errors;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Training;

public sealed record StartTrainingBody(string? Name, IReadOnlyList<string>? Datasets, string? Label, string? Task, string? Metric, int? Folds, IReadOnlyList<string>? Candidates);

/// <summary>Validates a training request's shape and schedules the run; data-dependent checks happen in the run's first activity.</summary>
public sealed class TrainingStarter
{
    public async Task<string> StartAsync(DurableTaskClient client, string tenant, StartTrainingBody body, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            throw LeptonException.BadRequest("'name' (the model name) is required.");
        }

        if (!Storage.Names.IsValidDataset(body.Name))
        {
            throw LeptonException.BadRequest($"'name' must be {Storage.Names.DatasetRule}.");
        }

        if (body.Datasets is not { Count: > 0 })
        {
            throw LeptonException.BadRequest("'datasets' must name at least one dataset (\"name\" or \"name@version\").");
        }

        int folds = body.Folds ?? 5;
        if (folds is < 2 or > 20)
        {
            throw LeptonException.BadRequest("'folds' must be between 2 and 20.");
        }

        string runId = $"train-{tenant}-{Guid.NewGuid():N}";
        var request = new TrainRequest(tenant, body.Name, body.Datasets, body.Label, body.Task, body.Metric, folds, body.Candidates, runId);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), request, new StartOrchestrationOptions(runId), ct);
        return runId;
    }
}
