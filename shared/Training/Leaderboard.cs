namespace Lepton.Training;

/// <summary>Turns fold results into the leaderboard and picks the winner; pure, so orchestrators can call it.</summary>
public static class Leaderboard
{
    /// <summary>
    /// Mean and standard deviation per metric for each candidate whose folds all succeeded; a candidate with a failed fold
    /// is kept with its error and no metrics.
    /// </summary>
    public static IReadOnlyList<LeaderboardEntry> Aggregate(IReadOnlyList<CandidateSpec> candidates, IReadOnlyList<FoldResult> results, int folds, string metric)
    {
        var entries = new List<LeaderboardEntry>();
        foreach (CandidateSpec candidate in candidates)
        {
            FoldResult[] mine = results.Where(r => r.CandidateId == candidate.Id).ToArray();
            string? error = mine.FirstOrDefault(r => r.Error is not null)?.Error;
            if (error is not null || mine.Length < folds)
            {
                entries.Add(new LeaderboardEntry(candidate.Id, candidate.Trainer, candidate.HyperParameters, new Dictionary<string, MetricSummary>(),
                    mine.Count(r => r.Error is null), error ?? "not every fold completed"));
                continue;
            }

            // Metrics undefined on some fold are summarized over none: only those every fold has are kept.
            var summary = mine[0].Metrics.Keys.Where(k => mine.All(r => r.Metrics.ContainsKey(k)))
                .ToDictionary(k => k, k => Summarize(mine.Select(r => r.Metrics[k]).ToArray()));
            entries.Add(new LeaderboardEntry(candidate.Id, candidate.Trainer, candidate.HyperParameters, summary, mine.Length, null));
        }

        return Rank(entries, metric);
    }

    /// <summary>Successful candidates best first (ties: fewer failures, then the catalog order), failed ones last.</summary>
    public static IReadOnlyList<LeaderboardEntry> Rank(IReadOnlyList<LeaderboardEntry> entries, string metric)
    {
        bool higher = TaskMetrics.HigherIsBetter(metric);
        var ok = entries.Where(e => e.Error is null && e.Metrics.ContainsKey(metric)).ToList();
        var ranked = (higher ? ok.OrderByDescending(e => e.Metrics[metric].Mean) : ok.OrderBy(e => e.Metrics[metric].Mean)).ToList();
        ranked.AddRange(entries.Where(e => !ok.Contains(e)));
        return ranked;
    }

    public static LeaderboardEntry? Best(IReadOnlyList<LeaderboardEntry> ranked) => ranked.FirstOrDefault(e => e.Error is null);

    public static MetricSummary Summarize(double[] values)
    {
        double mean = values.Average();
        double std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
        return new MetricSummary(mean, std);
    }

    /// <summary>Promotion rule: the first version goes to production; later ones only when strictly better on the metric.</summary>
    public static (bool Promote, string Reason) ShouldPromote(string metric, double candidate, double? production, int? productionVersion) =>
        production is not { } current
            ? (true, "first version of the model")
            : TaskMetrics.IsBetter(metric, candidate, current)
                ? (true, $"{metric} {candidate:G4} beats production v{productionVersion} ({current:G4})")
                : (false, $"{metric} {candidate:G4} does not beat production v{productionVersion} ({current:G4}); kept as candidate");
}
