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
    string RunId);

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
    IReadOnlyList<CandidateSpec> Candidates);

public sealed record FoldRequest(TrainingPlan Plan, CandidateSpec Candidate, int Fold);

public sealed record FoldResult(string CandidateId, int Fold, IReadOnlyDictionary<string, double> Metrics, string? Error, double Seconds);

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
    int ParityRows);

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
    string PromotionReason);

public sealed record TrainingOutcome(string RunId, string Model, int Version, string Stage, string Metric, double MetricValue, string PromotionReason);

public sealed record TrainingProgress(string Stage, int Done, int Total, string? Best, double? BestMetric);
