namespace Lepton.Api;

// The request bodies of the HTTP API, in one dependency-free assembly: the function app reads them, the OpenAPI
// description is generated from them, and the .NET client SDK sends them, so a partner's requests cannot drift from
// what the functions accept.

/// <summary>The body of POST /api/collaborations.</summary>
public sealed record CollaborationProposal(
    string? Id,
    string? Name,
    IReadOnlyList<string>? Members,
    CollaborationTaskBody? Task,
    string? Mode,
    string? Allocation,
    CollaborationTermsBody? Terms);

public sealed record CollaborationTaskBody(string? Label, string? Type, string? Metric);

public sealed record CollaborationTermsBody(
    int? MinRowsPerMember, bool? RevokeModelsOnLeave, double? CreditsPerThousandPredictions, double? EvaluationFraction, double? PrivacyEpsilon = null, double? PrivacyDelta = null);

/// <summary>The body of PATCH /api/collaborations/{c}: any of these; the rest stays.</summary>
public sealed record CollaborationChange(string? Name, string? Allocation, CollaborationTermsBody? Terms);

/// <summary>
/// The body of POST /api/collaborations/{c}/models: pooled runs take candidates and folds; federated runs take the rest
/// (rounds, localEpochs, strategy, mu, trimFraction, hidden, minMembersPerRound, roundTimeoutSeconds, patience,
/// secureAggregation, clipNorm, noiseMultiplier, learningRate).
/// </summary>
public sealed record StartCollaborationTrainingBody(
    string? Name, IReadOnlyList<string>? Candidates, int? Folds, int? Rounds = null, int? LocalEpochs = null, string? Strategy = null, double? Mu = null,
    double? TrimFraction = null, IReadOnlyList<int>? Hidden = null, int? MinMembersPerRound = null, int? RoundTimeoutSeconds = null, int? Patience = null,
    bool? SecureAggregation = null, double? ClipNorm = null, double? NoiseMultiplier = null, double? LearningRate = null, string? ClassWeights = null)
{
    public FederatedBody Federated => new(Name, Rounds, LocalEpochs, Strategy, Mu, TrimFraction, Hidden, MinMembersPerRound, RoundTimeoutSeconds,
        Patience, SecureAggregation, ClipNorm, NoiseMultiplier, LearningRate);
}

/// <summary>The body of POST /api/collaborations/{c}/models for a federated collaboration; every field has a default.</summary>
public sealed record FederatedBody(
    string? Name, int? Rounds, int? LocalEpochs, string? Strategy, double? Mu, double? TrimFraction, IReadOnlyList<int>? Hidden, int? MinMembersPerRound,
    int? RoundTimeoutSeconds, int? Patience, bool? SecureAggregation, double? ClipNorm, double? NoiseMultiplier, double? LearningRate);

/// <summary>The body of POST /api/tenants/{t}/models (checked by TrainingRequestRules).</summary>
public sealed record StartTrainingBody(
    string? Name, IReadOnlyList<string>? Datasets, string? Label, string? Task, string? Metric, int? Folds, IReadOnlyList<string>? Candidates, bool? Heavy = null,
    string? ClassWeights = null);

/// <summary>The body of POST /api/tenants/{t}/models/{m}/update.</summary>
public sealed record OnlineUpdateBody(string? Dataset, int? Epochs);

public sealed record GrantRequest(string? Grantee, string? Collaboration, IReadOnlyList<string>? Purposes, DateTimeOffset? ExpiresAt, bool? RevokeModels);

public sealed record SettlementBody(string? Period);

public sealed record ContributionBody(string? Method, ulong? Seed, int? MaxSamples, int? Version, double? Tolerance);

public sealed record CreateTenantBody(string? Id, string? Name);

public sealed record UpdateTenantBody(bool? Disabled);

public sealed record CreateUploadBody(string? Dataset, string? FileName, string? Model = null);

public sealed record CreateKeyBody(IReadOnlyList<string>? Roles, DateTimeOffset? ExpiresAt);

/// <summary>
/// The examples of the API description: one request body per record and one value per path parameter, all naming one
/// small world (two hospitals sharing breast-cancer data in the collaboration "oncology"). The API's contract test builds
/// that world and sends every route the request its description shows.
/// </summary>
public static class ApiExamples
{
    public const string Tenant = "hospital-a";
    public const string Partner = "hospital-b";
    public const string Dataset = "breast-cancer";
    public const string Model = "breast-cancer";
    public const string Collaboration = "oncology";
    public const string Label = "malignant";

    /// <summary>Examples of the path parameters that name things of the world (ids made by the API have none).</summary>
    public static IReadOnlyDictionary<string, string> PathValues { get; } = new Dictionary<string, string>
    {
        ["tenant"] = Tenant,
        ["dataset"] = Dataset,
        ["model"] = Model,
        ["collaboration"] = Collaboration,
        ["version"] = "1",
        ["path"] = "index.html",
    };

    public static IReadOnlyDictionary<Type, object> Bodies { get; } = new Dictionary<Type, object>
    {
        [typeof(CreateTenantBody)] = new CreateTenantBody("hospital-c", "Hospital C"),
        [typeof(UpdateTenantBody)] = new UpdateTenantBody(false),
        [typeof(CreateUploadBody)] = new CreateUploadBody(Dataset, "january.csv"),
        [typeof(CreateKeyBody)] = new CreateKeyBody(["consumer"], null),
        [typeof(GrantRequest)] = new GrantRequest(null, Collaboration, ["train", "evaluate"], null, null),
        [typeof(StartTrainingBody)] = new StartTrainingBody(Model, [Dataset], Label, null, null, 3, ["lbfgs-lr-l2-1"]),
        [typeof(OnlineUpdateBody)] = new OnlineUpdateBody(Dataset, 3),
        [typeof(CollaborationProposal)] = new CollaborationProposal("oncology-trial", "Oncology trial", [Tenant, Partner], new CollaborationTaskBody(Label, null, null),
            "pooled", "shapley", null),
        [typeof(CollaborationChange)] = new CollaborationChange("Oncology", null, null),
        [typeof(StartCollaborationTrainingBody)] = new StartCollaborationTrainingBody(Model, ["lbfgs-lr-l2-1"], 3),
        [typeof(ContributionBody)] = new ContributionBody("shapley", 7, null, null, null),
        [typeof(SettlementBody)] = new SettlementBody(null),
    };
}
