using Lepton.Federated;
using Lepton.Training;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Collaborations;

/// <summary>
/// Federated training, one round per execution: the first execution plans (statistics per member, keys for secure
/// aggregation, the featurization from aggregates, initial parameters); every execution then runs one round — one
/// local-training activity per member with a deadline (durable timer) and a quorum — aggregates, and continues as new
/// with the checkpoint (the global parameters' blob), so a 100-round run never replays 100 rounds and a restarted host
/// resumes at the last completed round. A member that fails (after retries) or misses the deadline is skipped and
/// reported; with secure aggregation the round is redone cleanly without it, since its masks would not cancel.
/// </summary>
public sealed class FederatedOrchestrator : TaskOrchestrator<FederatedState, TrainingOutcome>
{
    public const int MaxAttemptsPerRound = 3;

    public override async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, FederatedState state)
    {
        FederatedSettings s = state.Request.Settings;
        if (state.PlanBlob is null)
        {
            state = await PlanAsync(context, state);
        }

        int round = state.Round + 1;
        IReadOnlyList<string> participants = state.Members;
        var skipped = new List<string>();
        List<MemberRoundResult> results;
        int attempt = 1;
        while (true)
        {
            Report(context, state, $"round {round}: training", round, participants, skipped);
            (results, IReadOnlyList<string> missing) = await RoundAsync(context, state, round, attempt, participants, evaluateOnly: false);
            skipped.AddRange(missing.Where(m => !skipped.Contains(m)));
            if (results.Count < s.MinMembersPerRound)
            {
                throw new InvalidOperationException($"Round {round}: only {results.Count} of {participants.Count} members reported "
                    + $"(quorum {s.MinMembersPerRound}); skipped: {string.Join(", ", skipped)}.");
            }

            // Masks of a member that dropped out do not cancel: redo the round with those that reported.
            if (!s.SecureAggregation || missing.Count == 0 || attempt == MaxAttemptsPerRound)
            {
                break;
            }

            participants = results.Select(r => r.Member).ToList();
            attempt++;
        }

        RoundSummary summary = await DurableCalls.CallAsync<RoundSummary>(context, nameof(AggregateFederatedRound),
            new AggregateRequest(state.Request.RunId, state.Collaboration, state.PlanBlob!, state.GlobalBlob!, round, attempt, results));
        summary = summary with { Skipped = skipped };
        string metric = state.Metric!;
        double? value = summary.Metrics.TryGetValue(metric, out double v) ? v : null;
        bool better = value is { } current && (state.BestMetric is not { } best || TaskMetrics.IsBetter(metric, current, best));
        var next = state with
        {
            GlobalBlob = summary.GlobalBlob,
            Round = round,
            History = [.. state.History, summary],
            // The metric of round r's summary judges the model the members received in round r (the previous global).
            BestRound = better ? round - 1 : state.BestRound,
            BestMetric = better ? value : state.BestMetric,
        };

        bool stalled = next.Round - 1 - next.BestRound >= s.Patience;
        if (next.Round < s.Rounds && !stalled)
        {
            Report(context, next, $"round {round} done", round, summary.Reporting, skipped);
            context.ContinueAsNew(next, preserveUnprocessedEvents: false);
            return null!;
        }

        Report(context, next, "final evaluation", round, next.Members, skipped);
        (List<MemberRoundResult> final, _) = await RoundAsync(context, next, round + 1, 1, next.Members, evaluateOnly: true);
        RoundSummary evaluation = await DurableCalls.CallAsync<RoundSummary>(context, nameof(SummarizeFederatedEvaluation),
            new AggregateRequest(next.Request.RunId, next.Collaboration, next.PlanBlob!, next.GlobalBlob!, round + 1, 0, final));
        Report(context, next, "registering", round, next.Members, skipped);
        ModelVersion version = await DurableCalls.CallAsync<ModelVersion>(context, nameof(RegisterFederatedModel),
            new RegisterFederatedRequest(next, evaluation.Metrics, next.GlobalBlob!));
        Report(context, next, "done", round, next.Members, skipped);
        return new TrainingOutcome(next.Request.RunId, version.Model, version.Version, version.Stage, version.Metric, version.MetricValue, version.PromotionReason);
    }

    private static async Task<FederatedState> PlanAsync(TaskOrchestrationContext context, FederatedState state)
    {
        Report(context, state, "planning", 0, [], []);
        FederatedDraft draft = await DurableCalls.CallAsync<FederatedDraft>(context, nameof(PrepareFederatedRun), state.Request);
        Report(context, state, "statistics from each member", 0, draft.Members.Select(m => m.Member).ToList(), []);
        // A member whose statistics cannot be had (its grant gone, its storage away) is left out, not the run.
        MemberStatistics?[] gathered = await Task.WhenAll(draft.Members.Select(m => Safe(
            context.CallActivityAsync<MemberStatistics>(nameof(ComputeMemberStatistics), new StatisticsRequest(draft, m.Member), ActivityRetry.Default))));
        MemberStatistics[] statistics = gathered.OfType<MemberStatistics>().ToArray();
        MemberKey[] keys = state.Request.Settings.SecureAggregation
            ? await Task.WhenAll(draft.Members.Select(m => DurableCalls.CallAsync<MemberKey>(context, nameof(PublishMemberKey),
                new KeyRequest(state.Request.RunId, state.Collaboration, m.Member))))
            : [];
        FederatedStart start = await DurableCalls.CallAsync<FederatedStart>(context, nameof(InitializeFederatedModel), new InitializeRequest(draft, statistics, keys));
        IReadOnlyList<string> unavailable = draft.Members.Select(m => m.Member).Where(m => statistics.All(x => x.Member != m)).ToList();
        return state with
        {
            PlanBlob = start.PlanBlob, GlobalBlob = start.GlobalBlob, Members = start.Members, Excluded = [.. start.Excluded, .. unavailable], Metric = draft.Metric,
        };
    }

    /// <summary>One activity per member, all against one deadline; returns who reported and who did not (failed or late).</summary>
    private static async Task<(List<MemberRoundResult> Results, IReadOnlyList<string> Missing)> RoundAsync(
        TaskOrchestrationContext context, FederatedState state, int round, int attempt, IReadOnlyList<string> participants, bool evaluateOnly)
    {
        var tasks = participants.ToDictionary(m => m, m => Safe(context.CallActivityAsync<MemberRoundResult>(nameof(TrainMemberRound),
            new MemberRoundRequest(state.Request.RunId, state.Collaboration, state.PlanBlob!, state.GlobalBlob!, m, round, attempt, participants, evaluateOnly),
            ActivityRetry.Default)));
        using var cancel = new CancellationTokenSource();
        Task deadline = context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(state.Request.Settings.RoundTimeoutSeconds), cancel.Token);
        Task all = Task.WhenAll(tasks.Values);
        if (await Task.WhenAny(all, deadline) == all)
        {
            cancel.Cancel();
        }

        var results = tasks.Where(t => t.Value.IsCompleted && t.Value.Result is not null).Select(t => t.Value.Result!).ToList();
        return (results, participants.Where(m => results.All(r => r.Member != m)).ToList());
    }

    private static async Task<T?> Safe<T>(Task<T> task)
        where T : class
    {
        try
        {
            return await task;
        }
        catch (TaskFailedException)
        {
            return null;
        }
    }

    private static void Report(TaskOrchestrationContext context, FederatedState state, string stage, int round, IReadOnlyList<string> reporting, IReadOnlyList<string> skipped)
    {
        FederatedSettings s = state.Request.Settings;
        context.SetCustomStatus(new FederatedProgress(stage, state.Round, s.Rounds, round, reporting,
            state.History.Select(h => new RoundMetric(h.Round, state.Metric is { } m && h.Metrics.TryGetValue(m, out double v) ? v : null, h.Reporting.Count, h.Skipped)).ToList(),
            skipped,
            s.Private ? Lepton.Federated.PrivacyAccountant.Epsilon(s.NoiseMultiplier!.Value, s.Rounds, s.Delta!.Value) : null));
    }
}

/// <summary>Activity names of the federated workflow; the [Function] methods call <see cref="FederatedService"/> directly.</summary>
public static class PrepareFederatedRun;

public static class ComputeMemberStatistics;

public static class PublishMemberKey;

public static class InitializeFederatedModel;

public static class TrainMemberRound;

public static class AggregateFederatedRound;

public static class SummarizeFederatedEvaluation;

public static class RegisterFederatedModel;
