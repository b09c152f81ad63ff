using Lepton.Api;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Training;

/// <summary>Validates a training request's shape and schedules the run; data-dependent checks happen in the run's first activity.</summary>
public sealed class TrainingStarter
{
    public async Task<string> StartAsync(DurableTaskClient client, string tenant, StartTrainingBody body, CancellationToken ct = default)
    {
        int folds = TrainingRequestRules.Check(body.Name, body.Folds, body.Candidates, body.Datasets, datasetsRequired: true);
        string runId = $"train-{tenant}-{Guid.NewGuid():N}";
        var request = new TrainRequest(tenant, body.Name!, body.Datasets!, body.Label, body.Task, body.Metric, folds, body.Candidates, runId) { Heavy = body.Heavy ?? false };
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), request, new StartOrchestrationOptions(runId), ct);
        return runId;
    }
}
