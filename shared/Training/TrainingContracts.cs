using Lepton.Ingestion;

namespace Lepton.Training;

public static class MlTasks
{
    public const string Binary = "binary";
    public const string Multiclass = "multiclass";
    public const string Regression = "regression";
}

/// <summary>What a caller asks for: POST /api/tenants/{t}/models, or dataset.json with autoTrain.</summary>
public sealed record TrainRequest(
    string TenantId,
    string Model,
    IReadOnlyList<string> Datasets,
    string? Label,
    string? Task,
    string? Metric,
    int Folds,
    IReadOnlyList<string>? Candidates,
    string RunId,
    string? Collaboration = null)
{
    /// <summary>Send the run's network candidates to the GPU trainer whatever their size (`heavy: true` in the request).</summary>
    public bool Heavy { get; init; }

    /// <summary>
    /// <see cref="ClassWeighting.Balanced"/> to weigh each class's training rows by n / (classes × rows of the class), so
    /// a rare class counts as much as a common one (`classWeights: "balanced"`); null: every row counts once.
    /// </summary>
    public string? ClassWeights { get; init; }
}

/// <summary>One curated dataset version the run trains on (a reference, never the rows).</summary>
public sealed record DatasetRef(string Dataset, int Version, string DataBlob);

/// <summary>A trainer with one hyper-parameter setting.</summary>
public sealed record CandidateSpec(string Id, string Trainer, IReadOnlyDictionary<string, double> HyperParameters);

/// <summary>Resolved, validated plan: data, schema, task, metric and the candidate × fold grid.</summary>
public sealed record TrainingPlan(
    TrainRequest Request,
    IReadOnlyList<DatasetRef> Data,
    DatasetSchema Schema,
    string Label,
    string Task,
    string Metric,
    int Folds,
    int Seed,
    long Rows,
    IReadOnlyList<CandidateSpec> Candidates,
    CollaborationPlan? Collaboration = null)
{
    /// <summary>Candidates the GPU trainer cross-validates and trains (decided once, in planning, so the orchestrator stays deterministic).</summary>
    public IReadOnlyList<string> HeavyCandidates { get; init; } = [];

    /// <summary>How long the run waits for a heavy candidate's job.</summary>
    public TimeSpan HeavyTimeout { get; init; }
}

/// <summary>
/// The data of a collaboration run: what each member contributed (dataset versions and the grants that allow them), the
/// shared feature columns, and the fixed evaluation set drawn from each member (seeded, stratified, kept out of training).
/// Rows are never in the plan: every activity reads them from the members' own storage, under their grants.
/// </summary>
public sealed record CollaborationPlan(
    string Collaboration,
    IReadOnlyList<MemberPlan> Members,
    IReadOnlyList<string> Features,
    double EvaluationFraction,
    string EvaluationSetSha256,
    IReadOnlyList<string> Classes);

/// <summary>One member's part: its granted dataset versions and how many of its rows train and evaluate.</summary>
public sealed record MemberPlan(string Member, IReadOnlyList<ContributedDataset> Datasets, long TrainRows, long EvaluationRows);

/// <summary>A dataset version a member contributes under a grant to the collaboration.</summary>
public sealed record ContributedDataset(
    string Dataset, int Version, string DataBlob, long Rows, string SourceSha256, string GrantId, IReadOnlyList<string> Purposes, bool RevokeModels);

public sealed record FoldRequest(TrainingPlan Plan, CandidateSpec Candidate, int Fold);

/// <summary>All folds of one candidate in one activity: for small data, where a durable round trip costs more than a fold.</summary>
public sealed record FoldBatchRequest(TrainingPlan Plan, CandidateSpec Candidate, IReadOnlyList<int> Folds);

public sealed record FoldResult(string CandidateId, int Fold, IReadOnlyDictionary<string, double> Metrics, string? Error, double Seconds)
{
    /// <summary>A fold that could not be evaluated: no metrics, the reason; its candidate drops out of the leaderboard.</summary>
    public static FoldResult Failed(string candidateId, int fold, string error) => new(candidateId, fold, new Dictionary<string, double>(), error, 0);
}

public sealed record MetricSummary(double Mean, double Std);

/// <summary>One candidate's cross-validated result, as the leaderboard shows it.</summary>
public sealed record LeaderboardEntry(
    string CandidateId,
    string Trainer,
    IReadOnlyDictionary<string, double> HyperParameters,
    IReadOnlyDictionary<string, MetricSummary> Metrics,
    int FoldsSucceeded,
    string? Error);

public sealed record FinalTrainingRequest(TrainingPlan Plan, CandidateSpec Winner, IReadOnlyList<LeaderboardEntry> Leaderboard);

/// <summary>What the final training wrote: the ONNX artifact (with its hash) and how ML.NET and ONNX Runtime agreed.</summary>
public sealed record TrainedArtifact(
    string OnnxBlob,
    string OnnxSha256,
    string ModelZipBlob,
    IReadOnlyList<ModelInput> Inputs,
    IReadOnlyList<string> ClassLabels,
    double ParityMaxDifference,
    int ParityRows,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Evaluation = null);

public sealed record ModelInput(string Name, string Type);

public sealed record RegisterRequest(TrainingPlan Plan, CandidateSpec Winner, IReadOnlyList<LeaderboardEntry> Leaderboard, TrainedArtifact Artifact);

public sealed record ModelVersion(
    string Model,
    int Version,
    string Stage,
    string Task,
    string Metric,
    double MetricValue,
    string Label,
    CandidateSpec Configuration,
    IReadOnlyList<LeaderboardEntry> Leaderboard,
    IReadOnlyList<DatasetRef> Datasets,
    string OnnxBlob,
    string OnnxSha256,
    IReadOnlyList<ModelInput> Inputs,
    string OutputMeaning,
    IReadOnlyList<string> ClassLabels,
    DateTimeOffset CreatedAt,
    string RunId,
    string PromotionReason,
    IReadOnlyList<MemberLineage>? Members = null,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Evaluation = null,
    string? EvaluationSetSha256 = null,
    ModelRevocation? Revocation = null,
    int? WarmStartedFrom = null,
    Federated.FederatedSummary? Federated = null,
    string? ClassWeights = null)
{
    /// <summary>The grants this version's training data came under: revoking one marks the version.</summary>
    public IReadOnlyList<string> GrantIds => Members?.Select(m => m.GrantId).Distinct().ToList() ?? [];
}

/// <summary>POST /api/tenants/{t}/models/{m}/update, or dataset.json's "online": train the production network further on new rows.</summary>
public sealed record OnlineUpdateRequest(string TenantId, string Model, string Dataset, int? Epochs, string RunId);

/// <summary>
/// A warm-started version, before registration: its artifact, the metrics of it and of the version it started from on
/// the same held-out rows (of the new data, of the previous data, and both), and whether it may replace production.
/// </summary>
public sealed record OnlineUpdateResult(
    OnlineUpdateRequest Request,
    TrainingPlan Plan,
    int BaseVersion,
    TrainedArtifact Artifact,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluation,
    double MetricValue,
    bool Promote,
    string Reason);

/// <summary>Where a collaboration model's data came from: per member and dataset, the version, the source file's hash and the grant.</summary>
public sealed record MemberLineage(string Member, string Dataset, int Version, string SourceSha256, string GrantId, long TrainRows, long EvaluationRows);

/// <summary>
/// A version whose data grant was revoked (or whose member left under revokeModelsOnLeave). <see cref="StopsPredictions"/>:
/// the grant said so, and the version no longer serves.
/// </summary>
public sealed record ModelRevocation(string Reason, bool StopsPredictions, DateTimeOffset At);

public sealed record TrainingOutcome(string RunId, string Model, int Version, string Stage, string Metric, double MetricValue, string PromotionReason);

