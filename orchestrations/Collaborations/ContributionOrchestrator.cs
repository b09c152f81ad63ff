using Lepton.Collaborations.Contributions;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Collaborations;

/// <summary>
/// A contribution run: plan from the model version, evaluate the coalitions the method needs (one activity each, bounded
/// fan-out, each coalition once), compute values with <see cref="ContributionEstimator"/>, store the report. The estimator
/// is deterministic (seeded, ordered), so it runs here and asks for coalitions through durable activities.
/// </summary>
public sealed class ContributionOrchestrator
{
    public const int MaxParallelCoalitions = 8;

    public async Task<ContributionOutcome> RunAsync(TaskOrchestrationContext context, ContributionRequest request)
    {
        context.SetCustomStatus(new ContributionProgress("planning", 0, 0));
        ContributionPlayers players = await DurableCalls.CallAsync<ContributionPlayers>(context, nameof(PrepareContributionRun), request);
        int n = players.Players.Count;
        var table = new Dictionary<ulong, CoalitionScore>();

        async Task<IReadOnlyDictionary<ulong, double>> EvaluateAsync(IReadOnlyList<ulong> masks)
        {
            List<ulong> missing = masks.Distinct().Where(m => !table.ContainsKey(m)).ToList();
            int before = table.Count;
            List<CoalitionScore> scores = await BoundedFanOut.RunAsync(missing, MaxParallelCoalitions,
                mask => DurableCalls.CallAsync<CoalitionScore>(context, nameof(EvaluateCoalition), new CoalitionRequest(request.Collaboration, request.RunId, mask)),
                done => context.SetCustomStatus(new ContributionProgress("evaluating coalitions", before + done.Count, before + missing.Count)));
            foreach (CoalitionScore score in scores)
            {
                table[score.Mask] = score;
            }

            return masks.Distinct().ToDictionary(m => m, m => table[m].Utility);
        }

        EstimatedValues values = await ContributionEstimator.ComputeAsync(request.Method, n, players.Rows, request.Seed, request.Sampling, EvaluateAsync);

        context.SetCustomStatus(new ContributionProgress("reporting", table.Count, table.Count));
        ContributionReport report = await DurableCalls.CallAsync<ContributionReport>(context, nameof(StoreContributionReport),
            new ReportRequest(request.Collaboration, request.RunId, table.Values.OrderBy(s => s.Mask).ToList(), values, context.CurrentUtcDateTime));
        context.SetCustomStatus(new ContributionProgress("done", table.Count, table.Count));
        return new ContributionOutcome(request.RunId, request.Collaboration, request.Model, request.Version, request.Method, report.Members);
    }
}

/// <summary>Activity names of the contribution workflow; the [Function] methods that run them call the service directly.</summary>
public static class PrepareContributionRun;

public static class EvaluateCoalition;

public static class StoreContributionReport;
