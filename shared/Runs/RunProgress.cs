namespace Lepton.Runs;

/// <summary>
/// The one shape every workflow reports as its custom status: a stage and how far it is. A workflow with more to say
/// (the leading candidate, the rounds so far) derives from it, so a reader of any run finds these three fields.
/// </summary>
public record RunProgress(string Stage, int Done, int Total);

/// <summary>Training: the candidate leading the cross-validation so far.</summary>
public sealed record TrainingProgress(string Stage, int Done, int Total, string? Best, double? BestMetric) : RunProgress(Stage, Done, Total);
