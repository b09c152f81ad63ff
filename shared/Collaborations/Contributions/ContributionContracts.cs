using Lepton.Training;

namespace Lepton.Collaborations.Contributions;

/// <summary>The body of POST /api/collaborations/{c}/models/{m}/contributions.</summary>

/// <summary>A contribution run's input: which model version, which method, and the stopping rules for sampling.</summary>
public sealed record ContributionRequest(
    string RunId,
    string TenantId,
    string Collaboration,
    string Model,
    int Version,
    string Method,
    ulong Seed,
    SamplingOptions Sampling,
    string Actor);

/// <summary>
/// What every coalition activity needs: the version's training plan (data references, features, evaluation set), the
/// winning configuration, the players (members in plan order) and the utility of the empty coalition.
/// </summary>
public sealed record ContributionPlan(
    ContributionRequest Request,
    TrainingPlan Plan,
    CandidateSpec Configuration,
    IReadOnlyList<string> Players,
    IReadOnlyList<long> Rows,
    bool HigherIsBetter,
    double EmptyScore,
    string EvaluationSetSha256);

/// <summary>One coalition to evaluate: a reference to the run's stored plan, never the plan itself (history stays small at 2^n activities).</summary>
public sealed record CoalitionRequest(string Collaboration, string RunId, ulong Mask);

/// <summary>A coalition's score on the evaluation set (the agreed metric) and its utility (the score, negated when lower is better).</summary>
public sealed record CoalitionScore(ulong Mask, double Score, double Utility, bool Cached, string? Note);

public sealed record ReportRequest(string Collaboration, string RunId, IReadOnlyList<CoalitionScore> Coalitions, EstimatedValues Values, DateTimeOffset CreatedAt);

/// <summary>What the orchestrator keeps of the plan: the players and their rows (the plan itself stays in storage).</summary>
/// <remarks>With <see cref="Federated"/>, coalitions are evaluated from a federated run's stored round updates, without retraining.</remarks>
public sealed record ContributionPlayers(IReadOnlyList<string> Players, IReadOnlyList<long> Rows, Federated.FederatedContribution? Federated = null);

public sealed record CoalitionEntry(IReadOnlyList<string> Members, ulong Mask, double Score, double Utility, string? Note);

public sealed record MemberContribution(string Member, double Value, double? StandardError, double Share, long Rows);

/// <summary>A stored contribution report: values and shares per member, how they were computed, and every coalition evaluated.</summary>
public sealed record ContributionReport(
    string Id,
    string Collaboration,
    string Model,
    int Version,
    string Method,
    bool Exact,
    ulong Seed,
    SamplingOptions Sampling,
    int? Samples,
    bool? Converged,
    string Metric,
    bool HigherIsBetter,
    string EvaluationSetSha256,
    double? EmptyUtility,
    double? GrandUtility,
    IReadOnlyList<MemberContribution> Members,
    int Trainings,
    IReadOnlyList<CoalitionEntry> Coalitions,
    DateTimeOffset CreatedAt,
    string RequestedBy);

public sealed record ContributionSummary(string Id, string Model, int Version, string Method, DateTimeOffset CreatedAt, IReadOnlyList<MemberContribution> Members);

public sealed record ContributionVerification(bool Valid, IReadOnlyList<string> Problems, IReadOnlyList<MemberContribution> Recomputed);

public sealed record ContributionOutcome(string RunId, string Collaboration, string Model, int Version, string Method, IReadOnlyList<MemberContribution> Members);
