using Lepton.Api;
using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Errors;
using Lepton.Orchestrations.Training;
using Lepton.Storage;
using Lepton.Training;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Collaborations;

/// <summary>
/// Starts a collaboration's runs after the checks a caller can act on (agreement active, data compatible, request valid),
/// so a refused request answers 400/409 at once instead of a run that fails later.
/// </summary>
public sealed class CollaborationStarter(CollaborationData data, ContributionService contributions, ModelRegistry registry, Lepton.Federated.FederatedService federated)
{
    public async Task<string> StartTrainingAsync(
        DurableTaskClient client, Collaboration c, string tenant, string actor, StartCollaborationTrainingBody body, CancellationToken ct = default)
    {
        int folds = TrainingRequestRules.Check(body.Name, body.Folds, body.Candidates);

        if (c.Mode == CollaborationModes.Federated)
        {
            if (body.ClassWeights is not null)
            {
                throw LeptonException.BadRequest("'classWeights' applies to pooled training; a federated collaboration's members train unweighted.");
            }

            Lepton.Federated.FederatedSettings settings = await federated.ValidateAsync(c, body.Federated, ct);
            string federatedRunId = $"federated-{c.Id}-{Guid.NewGuid():N}";
            var request = new Lepton.Federated.FederatedRequest(federatedRunId, tenant, c.Id, body.Name!, settings, actor);
            var state = new Lepton.Federated.FederatedState(tenant, c.Id, request, null, null, [], [], 0, [], 0, null);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(FederatedOrchestrator), state, new StartOrchestrationOptions(federatedRunId), ct);
            return federatedRunId;
        }

        DataReport report = await data.RequireReadyAsync(c, ct);
        CandidateCatalog.Plan(report.Task!, body.Candidates);
        string? classWeights = ClassWeighting.Parse(body.ClassWeights, report.Task);
        string runId = $"train-{c.Id}-{Guid.NewGuid():N}";
        var pooled = new TrainRequest(tenant, body.Name!, [], report.Label, report.Task, report.Metric, folds, body.Candidates, runId, c.Id) { ClassWeights = classWeights };
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), pooled, new StartOrchestrationOptions(runId), ct);
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
    public async Task<CollaborationView> DescribeAsync(Collaboration c, CancellationToken ct = default)
    {
        DataReport report = await data.ReportAsync(c, ct);
        IReadOnlyList<CollaborationModelView> models = (await registry.ListModelsAsync(c.ModelOwner, ct))
            .Select(m => new CollaborationModelView(m.Model, m.Latest, m.Production)).ToList();
        return new CollaborationView(c, c.AwaitingAcceptance,
            report.Members.Select(m => new MemberDataView(m.Member, m.Datasets, m.Rows, m.Compatible, m.Problems)).ToList(), report.ReadyToTrain, models);
    }
}

/// <summary>GET /api/collaborations/{c}: the agreement, who still has to accept, each member's data in short, and the models.</summary>
public sealed record CollaborationView(
    Collaboration Collaboration, IReadOnlyList<string> AwaitingAcceptance, IReadOnlyList<MemberDataView> Data, bool ReadyToTrain, IReadOnlyList<CollaborationModelView> Models);

public sealed record MemberDataView(string Member, IReadOnlyList<ContributedDataset> Datasets, long Rows, bool Compatible, IReadOnlyList<string> Problems);

public sealed record CollaborationModelView(string Model, int LatestVersion, int? ProductionVersion);
