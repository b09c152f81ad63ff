using Lepton.Collaborations.Contributions;
using Lepton.Orchestrations.Collaborations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of the contribution workflow: each activity calls the service directly (one hop).</summary>
public sealed class ContributionFunctions(ContributionService contributions, Lepton.Federated.FederatedService federated)
{
    [Function(nameof(ContributionOrchestrator))]
    public static Task<ContributionOutcome> RunContributionOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ContributionOrchestrator().RunAsync(context, context.GetInput<ContributionRequest>()!);

    [Function(nameof(PrepareContributionRun))]
    public Task<ContributionPlayers> RunPrepareContributionRun([ActivityTrigger] ContributionRequest input, CancellationToken ct) =>
        contributions.PrepareAsync(input, ct);

    [Function(nameof(EvaluateCoalition))]
    public Task<CoalitionScore> RunEvaluateCoalition([ActivityTrigger] CoalitionRequest input, CancellationToken ct) =>
        contributions.EvaluateCoalitionAsync(input, ct);

    [Function(nameof(StoreContributionReport))]
    public Task<ContributionReport> RunStoreContributionReport([ActivityTrigger] ReportRequest input, CancellationToken ct) =>
        contributions.StoreReportAsync(input, ct);

    [Function(nameof(EvaluateFederatedCoalitions))]
    public Task<IReadOnlyList<Lepton.Federated.ValidationStatistics>> RunEvaluateFederatedCoalitions(
        [ActivityTrigger] Lepton.Federated.FederatedCoalitionRequest input, CancellationToken ct) => federated.EvaluateCoalitionsAsync(input, ct);
}
