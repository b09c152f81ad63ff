using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Errors;
using Lepton.Orchestrations.Training;
using Lepton.Storage;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Collaborations;

public sealed record StartCollaborationTrainingBody(string? Name, IReadOnlyList<string>? Candidates, int? Folds);

/// <summary>
/// Starts a collaboration's runs after the checks a caller can act on (agreement active, data compatible, request valid),
/// so a refused request answers 400/409 at once instead of a run that fails later.
/// </summary>
public sealed class CollaborationStarter(CollaborationData data, ContributionService contributions, ModelRegistry registry)
{
    public async Task<string> StartTrainingAsync(DurableTaskClient client, Collaboration c, string tenant, StartCollaborationTrainingBody body, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(body.Name))
        {
            throw LeptonException.BadRequest($"'name' (the model name) is required: {Names.DatasetRule}.");
        }

        int folds = body.Folds ?? 5;
        if (folds is < 2 or > 20)
        {
            throw LeptonException.BadRequest("'folds' must be between 2 and 20.");
        }

        if (c.Mode != CollaborationModes.Pooled)
        {
            throw LeptonException.BadRequest($"Collaboration '{c.Id}' agreed on {c.Mode} training, which is not available yet; only pooled training is.");
        }

        DataReport report = await data.RequireReadyAsync(c, ct);
        CandidateCatalog.Plan(report.Task!, body.Candidates);
        string runId = $"train-{c.Id}-{Guid.NewGuid():N}";
        var request = new TrainRequest(tenant, body.Name!, [], report.Label, report.Task, report.Metric, folds, body.Candidates, runId, c.Id);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), request, new StartOrchestrationOptions(runId), ct);
        return runId;
    }

    public async Task<string> StartContributionsAsync(
        DurableTaskClient client, Collaboration c, string model, ContributionBody body, string tenant, string actor, CancellationToken ct = default)
    {
        ContributionRequest request = await contributions.CreateRequestAsync(c, model, body, tenant, actor, ct);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(ContributionOrchestrator), request, new StartOrchestrationOptions(request.RunId), ct);
        return request.RunId;
    }

    /// <summary>The agreement as its members see it: members and acceptance, contributed data per member, models.</summary>
    public async Task<object> DescribeAsync(Collaboration c, CancellationToken ct = default)
    {
        DataReport report = await data.ReportAsync(c, ct);
        var models = (await registry.ListModelsAsync(c.ModelOwner, ct)).Select(m => new { model = m.Model, latestVersion = m.Latest, productionVersion = m.Production });
        return new
        {
            collaboration = c,
            awaitingAcceptance = c.AwaitingAcceptance,
            data = report.Members.Select(m => new { member = m.Member, datasets = m.Datasets, rows = m.Rows, compatible = m.Compatible, problems = m.Problems }),
            readyToTrain = report.ReadyToTrain,
            models,
        };
    }
}
