using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Api;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Training;

/// <summary>
/// Validates a training request — its shape, and that every dataset it names has that published version — and schedules
/// the run; checks that need the rows (label, task, folds per class) happen in the run's first activity.
/// </summary>
public sealed class TrainingStarter(DatasetCatalog catalog)
{
    public async Task<string> StartAsync(DurableTaskClient client, string tenant, StartTrainingBody body, CancellationToken ct = default)
    {
        int folds = TrainingRequestRules.Check(body.Name, body.Folds, body.Candidates, body.Datasets, datasetsRequired: true);
        string? classWeights = ClassWeighting.Parse(body.ClassWeights, body.Task);
        foreach (string entry in body.Datasets!)
        {
            string[] parts = entry.Split('@');
            IReadOnlyList<DatasetVersionRecord> versions = Storage.Names.IsValidDataset(parts[0]) ? await catalog.ListVersionsAsync(tenant, parts[0], ct) : [];
            bool found = parts.Length == 1 ? versions.Count > 0 : int.TryParse(parts[1], out int v) && versions.Any(x => x.Version == v);
            if (!found)
            {
                throw LeptonException.BadRequest($"Dataset '{entry}' has no published version.");
            }
        }

        string runId = $"train-{tenant}-{Guid.NewGuid():N}";
        var request = new TrainRequest(tenant, body.Name!, body.Datasets!, body.Label, body.Task, body.Metric, folds, body.Candidates, runId) { Heavy = body.Heavy ?? false, ClassWeights = classWeights };
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), request, new StartOrchestrationOptions(runId), ct);
        return runId;
    }
}
