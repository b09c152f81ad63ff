using Lepton.Api;
using Lepton.Training;

namespace Lepton.Collaborations;

public static class CollaborationModes
{
    public const string Pooled = "pooled";
    public const string Federated = "federated";

    public static IReadOnlyList<string> All { get; } = [Pooled, Federated];
}

/// <summary>How a collaboration splits benefits between its members.</summary>
public static class AllocationMethods
{
    public const string Shapley = "shapley";
    public const string Banzhaf = "banzhaf";
    public const string LeaveOneOut = "leave-one-out";
    public const string Proportional = "proportional";

    public static IReadOnlyList<string> All { get; } = [Shapley, Banzhaf, LeaveOneOut, Proportional];
}

public static class CollaborationStates
{
    /// <summary>Waiting for every member's acceptance of the current terms.</summary>
    public const string Proposed = "proposed";

    /// <summary>Every current member accepted the current terms: data may be used, models trained and served.</summary>
    public const string Active = "active";

    /// <summary>Fewer than two members remain.</summary>
    public const string Ended = "ended";
}

/// <summary>What the members agree to learn: the label column, the task and the metric that judges models and contributions.</summary>
public sealed record CollaborationTask(string Label, string? Type, string? Metric);

/// <summary>The agreed terms. <see cref="EvaluationFraction"/> of each member's rows is held out as the fixed evaluation set.</summary>
/// <remarks><see cref="PrivacyEpsilon"/>/<see cref="PrivacyDelta"/>: the (ε, δ) budget a federated run may spend; runs planned beyond it are refused.</remarks>
public sealed record CollaborationTerms(
    int MinRowsPerMember,
    bool RevokeModelsOnLeave,
    double CreditsPerThousandPredictions,
    double EvaluationFraction,
    double? PrivacyEpsilon = null,
    double? PrivacyDelta = null);

/// <summary>One member: when it accepted the current revision of the terms (null while it has not), and when it left.</summary>
public sealed record CollaborationMember(string Tenant, DateTimeOffset? AcceptedAt, DateTimeOffset? LeftAt);

public sealed record Collaboration(
    string Id,
    string Name,
    string ProposedBy,
    IReadOnlyList<CollaborationMember> Members,
    CollaborationTask Task,
    string Mode,
    string Allocation,
    CollaborationTerms Terms,
    string State,
    int Revision,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Members that have not left, in the order of the proposal.</summary>
    public IReadOnlyList<string> CurrentMembers => Members.Where(m => m.LeftAt is null).Select(m => m.Tenant).ToList();

    public bool IsMember(string? tenant) => tenant is not null && Members.Any(m => m.Tenant == tenant && m.LeftAt is null);

    /// <summary>Current members that have not accepted the current terms.</summary>
    public IReadOnlyList<string> AwaitingAcceptance => Members.Where(m => m.LeftAt is null && m.AcceptedAt is null).Select(m => m.Tenant).ToList();

    /// <summary>Where this collaboration's models live in the model registry (no tenant id can contain ':').</summary>
    public string ModelOwner => ModelOwners.ForCollaboration(Id);
}

/// <summary>Owners in the model registry: a tenant id, or a collaboration's namespace.</summary>
public static class ModelOwners
{
    private const string CollaborationPrefix = "collaboration:";

    public static string ForCollaboration(string collaboration) => CollaborationPrefix + collaboration;

    public static string? CollaborationOf(string owner) =>
        owner.StartsWith(CollaborationPrefix, StringComparison.Ordinal) ? owner[CollaborationPrefix.Length..] : null;
}

