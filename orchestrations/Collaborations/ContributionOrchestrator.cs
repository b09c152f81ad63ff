using Lepton.Runs;
using Lepton.Collaborations.Contributions;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Collaborations;

/// <summary>
/// A contribution run: plan from the model version, evaluate the coalitions the method needs (one activity each, bounded
/// fan-out, each coalition once), compute values with <see cref="ContributionEstimator"/>, store the report. The estimator
/// is deterministic (seeded, ordered), so it runs here and asks for coalitions through durable activities.
/// </summary>
public sealed class ContributionOrchestrator : TaskOrchestrator<ContributionRequest, ContributionOutcome>
{
    public const int MaxParallelCoalitions = 8;

    /// <summary>
    /// Federated models: one activity per (round, member) scores every asked coalition's rebuilt model on that member's
    /// held-out rows; the statistics are summed over members per round, and a coalition's score is its metric averaged
    /// over the rounds. No model is retrained.
    /// </summary>
    private static async Task EvaluateFromRoundsAsync(TaskOrchestrationContext context, ContributionRequest request, ContributionPlayers players,
        Lepton.Federated.FederatedContribution rounds, IReadOnlyList<ulong> masks, Dictionary<ulong, CoalitionScore> table)
    {
        if (masks.Count == 0)
        {
            return;
        }

        var work = rounds.Rounds.SelectMany(r => players.Players.Select(m => (Round: r, Member: m))).ToList();
        List<(int Round, IReadOnlyList<Lepton.Federated.ValidationStatistics> Statistics)> results = await BoundedFanOut.RunAsync(work, MaxParallelCoalitions,
            async w => (w.Round, await DurableCalls.CallAsync<IReadOnlyList<Lepton.Federated.ValidationStatistics>>(context, nameof(EvaluateFederatedCoalitions),
                new Lepton.Federated.FederatedCoalitionRequest(request.Collaboration, rounds.TrainingRunId, request.RunId, w.Round, w.Member, players.Players, masks))),
            done => context.SetCustomStatus(new RunProgress("evaluating coalitions from the rounds", done.Count, work.Count)));
        bool higher = Lepton.Training.TaskMetrics.HigherIsBetter(rounds.Metric);
        ILookup<int, IReadOnlyList<Lepton.Federated.ValidationStatistics>> byRound = results.ToLookup(x => x.Round, x => x.Statistics);
        for (int k = 0; k < masks.Count; k++)
        {
            double score = rounds.Rounds.Average(r => Lepton.Federated.FederatedStatistics.Metrics(rounds.Task,
                Lepton.Federated.FederatedStatistics.Sum(byRound[r].Select(statistics => statistics[k]).ToList()), rounds.Classes)
                .GetValueOrDefault(rounds.Metric));
            table[masks[k]] = new CoalitionScore(masks[k], score, higher ? score : -score, false, $"average over {rounds.Rounds.Count} federated rounds");
        }
    }

    public override async Task<ContributionOutcome> RunAsync(TaskOrchestrationContext context, ContributionRequest request)
    {
        context.SetCustomStatus(new RunProgress("planning", 0, 0));
        ContributionPlayers players = await DurableCalls.CallAsync<ContributionPlayers>(context, nameof(PrepareContributionRun), request);
        int n = players.Players.Count;
        var table = new Dictionary<ulong, CoalitionScore>();

        async Task<IReadOnlyDictionary<ulong, double>> EvaluateAsync(IReadOnlyList<ulong> masks)
        {
            if (players.Federated is { } rounds)
            {
                await EvaluateFromRoundsAsync(context, request, players, rounds, masks.Distinct().Where(m => !table.ContainsKey(m)).ToList(), table);
                return masks.Distinct().ToDictionary(m => m, m => table[m].Utility);
            }

            List<ulong> missing = masks.Distinct().Where(m => !table.ContainsKey(m)).ToList();
            int before = table.Count;
            List<CoalitionScore> scores = await BoundedFanOut.RunAsync(missing, MaxParallelCoalitions,
                mask => DurableCalls.CallAsync<CoalitionScore>(context, nameof(EvaluateCoalition), new CoalitionRequest(request.Collaboration, request.RunId, mask)),
                done => context.SetCustomStatus(new RunProgress("evaluating coalitions", before + done.Count, before + missing.Count)));
            foreach (CoalitionScore score in scores)
            {
                table[score.Mask] = score;
            }

            return masks.Distinct().ToDictionary(m => m, m => table[m].Utility);
        }

        EstimatedValues values = await ContributionEstimator.ComputeAsync(request.Method, n, players.Rows, request.Seed, request.Sampling, EvaluateAsync,
            players.Federated is null ? ContributionEstimator.ExactLimit : ContributionEstimator.ExactLimitWithoutTraining);

        context.SetCustomStatus(new RunProgress("reporting", table.Count, table.Count));
        ContributionReport report = await DurableCalls.CallAsync<ContributionReport>(context, nameof(StoreContributionReport),
            new ReportRequest(request.Collaboration, request.RunId, table.Values.OrderBy(s => s.Mask).ToList(), values, context.CurrentUtcDateTime));
        context.SetCustomStatus(new RunProgress("done", table.Count, table.Count));
        return new ContributionOutcome(request.RunId, request.Collaboration, request.Model, request.Version, request.Method, report.Members);
    }
}

/// <summary>Activity names of the contribution workflow; the [Function] methods that run them call the service directly.</summary>
public static class PrepareContributionRun;

public static class EvaluateCoalition;

public static class StoreContributionReport;

public static class EvaluateFederatedCoalitions;
