using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Training;

/// <summary>
/// The one place for the checks a training request must pass before a run is scheduled, for a tenant's own models and
/// for a collaboration's. Sizes are bounded so a request can never grow a durable input or an audit entry without limit.
/// </summary>
public static class TrainingRequestRules
{
    public const int DefaultFolds = 5;
    public const int MinFolds = 2;
    public const int MaxFolds = 20;
    public const int MaxDatasets = 50;
    public const int MaxCandidates = 32;
    public const int MaxReferenceLength = 80;

    /// <summary>Checks name, folds, candidates and (when the request names them) dataset references; returns the folds to use.</summary>
    public static int Check(string? name, int? folds, IReadOnlyList<string>? candidates, IReadOnlyList<string>? datasets = null, bool datasetsRequired = false)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw LeptonException.BadRequest("'name' (the model name) is required.");
        }

        if (!Names.IsValidDataset(name))
        {
            throw LeptonException.BadRequest($"'name' must be {Names.DatasetRule}.");
        }

        if (datasetsRequired && datasets is not { Count: > 0 })
        {
            throw LeptonException.BadRequest("'datasets' must name at least one dataset (\"name\" or \"name@version\").");
        }

        if (datasets is { Count: > MaxDatasets })
        {
            throw LeptonException.BadRequest($"'datasets' may name at most {MaxDatasets} dataset versions; it names {datasets.Count}.");
        }

        if (datasets?.FirstOrDefault(d => string.IsNullOrWhiteSpace(d) || d.Length > MaxReferenceLength) is { } bad)
        {
            throw LeptonException.BadRequest($"'datasets' entries are \"name\" or \"name@version\" of at most {MaxReferenceLength} characters; '{Truncate(bad)}' is not.");
        }

        if (candidates is { Count: > MaxCandidates })
        {
            throw LeptonException.BadRequest($"'candidates' may name at most {MaxCandidates} candidates; it names {candidates.Count}.");
        }

        int chosen = folds ?? DefaultFolds;
        return chosen is < MinFolds or > MaxFolds
            ? throw LeptonException.BadRequest($"'folds' must be between {MinFolds} and {MaxFolds}.")
            : chosen;
    }

    internal static string Truncate(string? text) => text is null ? "" : text.Length <= 30 ? text : text[..30] + "…";
}
