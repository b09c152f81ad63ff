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

    /// <summary>
    /// Successful candidates best first, failed ones last. Candidates within one standard error of the best mean on the
    /// metric are a statistical tie: among them the one that classifies most held-out rows correctly comes first
    /// (<see cref="TaskMetrics.TieBreakers"/>); remaining ties keep the metric's order, then the catalog's.
    /// </summary>
    /// <remarks>
    /// On a few hundred rows the selection metric's fold-to-fold spread is larger than the gaps between good candidates:
    /// breast cancer's AUC put a network 0.0008 ahead (spread ±0.005) of a linear model that is 0.7 point more accurate.
    /// Breaking such ties by accuracy never picks a candidate measurably worse on the metric the caller chose.
    /// </remarks>
    public static IReadOnlyList<LeaderboardEntry> Rank(IReadOnlyList<LeaderboardEntry> entries, string metric)
    {
        bool higher = TaskMetrics.HigherIsBetter(metric);
        var ok = entries.Where(e => e.Error is null && e.Metrics.ContainsKey(metric)).ToList();
        var ranked = (higher ? ok.OrderByDescending(e => e.Metrics[metric].Mean) : ok.OrderBy(e => e.Metrics[metric].Mean)).ToList();
        if (ranked.Count > 1)
        {
            MetricSummary best = ranked[0].Metrics[metric];
            double standardError = best.Std / Math.Sqrt(Math.Max(1, ranked[0].FoldsSucceeded));
            var tied = ranked.TakeWhile(e => Math.Abs(e.Metrics[metric].Mean - best.Mean) <= standardError).ToList();
            string? tieBreaker = TaskMetrics.TieBreakers.FirstOrDefault(m => m != metric && tied.All(e => e.Metrics.ContainsKey(m)));
            if (tied.Count > 1 && tieBreaker is not null)
            {
                ranked = [.. tied.OrderByDescending(e => e.Metrics[tieBreaker].Mean), .. ranked.Skip(tied.Count)];
            }
        }

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
