using Lepton.Ingestion;
using Lepton.Learning;
using Lepton.Training;

namespace Lepton.Federated;

/// <summary>Resolved settings of a federated run.</summary>
public sealed record FederatedSettings(
    int Rounds, int LocalEpochs, string Strategy, double Mu, double TrimFraction, IReadOnlyList<int> Hidden, int MinMembersPerRound, int RoundTimeoutSeconds,
    int Patience, bool SecureAggregation, double? ClipNorm, double? NoiseMultiplier, double? Delta, double LearningRate, int BatchSize, int Seed)
{
    public bool Private => NoiseMultiplier is > 0 && ClipNorm is > 0;
}

public sealed record FederatedRequest(string RunId, string TenantId, string Collaboration, string Model, FederatedSettings Settings, string Actor);

/// <summary>What the run learns from: each member's granted dataset versions and the shared columns, before any statistic.</summary>
public sealed record FederatedDraft(
    FederatedRequest Request, IReadOnlyList<MemberPlan> Members, IReadOnlyList<ColumnSchema> Features, string Label, string Task, string Metric, double EvaluationFraction,
    int MinRowsPerMember);

/// <summary>The run's fixed plan, stored as a blob: featurization from aggregates, network shape, members and their weights.</summary>
public sealed record FederatedPlan(
    FederatedDraft Draft, Featurization Featurization, NetworkShape Shape, IReadOnlyList<string> Classes, double TargetCenter, double TargetScale,
    IReadOnlyDictionary<string, long> Rows, IReadOnlyDictionary<string, string> PublicKeys, IReadOnlyList<string> Excluded);

public sealed record StatisticsRequest(FederatedDraft Draft, string Member);

public sealed record KeyRequest(string RunId, string Collaboration, string Member);

public sealed record MemberKey(string Member, string PublicKey);

public sealed record InitializeRequest(FederatedDraft Draft, IReadOnlyList<MemberStatistics> Statistics, IReadOnlyList<MemberKey> Keys);

public sealed record FederatedStart(string PlanBlob, string GlobalBlob, IReadOnlyList<string> Members, IReadOnlyList<string> Excluded);

/// <summary>One member's work in one round: evaluate the global model on its held-out rows, then (unless evaluating only) train from it.</summary>
public sealed record MemberRoundRequest(
    string RunId, string Collaboration, string PlanBlob, string GlobalBlob, string Member, int Round, int Attempt, IReadOnlyList<string> Participants, bool EvaluateOnly);

public sealed record MemberRoundResult(string Member, string? UpdateBlob, long Samples, ValidationStatistics Validation, double UpdateNorm);

public sealed record AggregateRequest(
    string RunId, string Collaboration, string PlanBlob, string GlobalBlob, int Round, int Attempt, IReadOnlyList<MemberRoundResult> Results);

public sealed record RoundSummary(
    int Round, IReadOnlyList<string> Reporting, IReadOnlyList<string> Skipped, IReadOnlyDictionary<string, double> Metrics, string GlobalBlob, int Attempts);

/// <summary>The orchestrator's state carried from round to round through continue-as-new (so history stays one round long).</summary>
public sealed record FederatedState(
    string TenantId,
    string Collaboration,
    FederatedRequest Request,
    string? PlanBlob,
    string? GlobalBlob,
    IReadOnlyList<string> Members,
    IReadOnlyList<string> Excluded,
    int Round,
    IReadOnlyList<RoundSummary> History,
    int BestRound,
    double? BestMetric,
    string? Metric = null);

public sealed record RegisterFederatedRequest(FederatedState State, IReadOnlyDictionary<string, double> FinalMetrics, string FinalBlob);

/// <summary>What the run reports while it goes: the round, who reported, each round's metric, who was skipped.</summary>
public sealed record FederatedProgress(
    string Stage, int Done, int Total, int Round, IReadOnlyList<string> Reporting, IReadOnlyList<RoundMetric> Rounds, IReadOnlyList<string> Skipped, double? EpsilonPlanned)
    : Runs.RunProgress(Stage, Done, Total);

public sealed record RoundMetric(int Round, double? Metric, int Reporting, IReadOnlyList<string> Skipped);

/// <summary>A federated version's own record: rounds, who took part, the privacy spent.</summary>
public sealed record FederatedSummary(
    string Strategy, int Rounds, bool SecureAggregation, IReadOnlyList<RoundMetric> History, IReadOnlyDictionary<string, int> RoundsParticipated, double? Epsilon,
    double? Delta, double? NoiseMultiplier, double? ClipNorm, IReadOnlyList<string> Excluded);

/// <summary>
/// A contribution run over a federated model: every coalition's model is rebuilt per round from the stored updates of
/// its members (the round's global parameters plus their aggregate) and scored on one member's held-out rows.
/// </summary>
public sealed record FederatedCoalitionRequest(
    string Collaboration, string TrainingRunId, string ContributionRunId, int Round, string Member, IReadOnlyList<string> Players, IReadOnlyList<ulong> Masks);

/// <summary>What a contribution run needs to know of a federated training run: its rounds, task, metric and classes.</summary>
public sealed record FederatedContribution(string TrainingRunId, IReadOnlyList<int> Rounds, string Task, string Metric, int Classes);
