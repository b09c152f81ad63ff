using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Benchmarks;

/// <summary>
/// Cross-validated quality of every candidate on a CSV, through the same preprocessing and training code the activities run
/// (5 folds, seed 42). Usage: quality FILE LABEL [TASK] [--folds-out FILE] [--candidates ID,ID] (default: all of the task's).
/// </summary>
public static class Quality
{
    public static int Run(string source, string label, string? task, string? foldsOut, IReadOnlyList<string>? candidates = null)
    {
        string work = Directory.CreateTempSubdirectory("lepton-quality").FullName;
        try
        {
            string curated = Path.Combine(work, "data.csv");
            SourceAnalysis analysis = LocalCuration.Curate(source, curated, new DatasetSpec(Label: label, Task: task)).Analysis;
            if (analysis.IsRejected)
            {
                // The same report an upload of this file would get, instead of a crash further on.
                Console.Error.WriteLine($"{Path.GetFileName(source)} is rejected: {string.Join("; ", analysis.Problems.Select(p => p.Message))}");
                return 1;
            }

            string resolvedTask = analysis.Schema!.Task!;
            var plan = new TrainingPlan(new TrainRequest("bench", "m", ["d"], label, resolvedTask, null, 5, null, "bench"), [], analysis.Schema, label, resolvedTask,
                TaskMetrics.DefaultMetric(resolvedTask), 5, TrainingService.Seed, analysis.DataRows, CandidateCatalog.Plan(resolvedTask, candidates));
            int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(curated, label), 5, plan.Seed, resolvedTask != MlTasks.Regression);
            if (foldsOut is not null)
            {
                // The curated rows with Lepton's fold of each, for scripts/sklearn_reference.py to use the very same split.
                string[] lines = File.ReadAllLines(curated);
                File.WriteAllLines(foldsOut, lines.Select((line, i) => i == 0 ? line + ",__fold" : $"{line},{folds[i - 1]}"));
            }

            var results = new List<FoldResult>();
            foreach (CandidateSpec candidate in plan.Candidates)
            {
                for (int f = 0; f < 5; f++)
                {
                    (string train, string test) = FoldSplitter.WriteFold(curated, folds, f, work);
                    results.Add(TrainingEngine.EvaluateFold(plan, candidate, train, test, f));
                }
            }

            string[] shown = resolvedTask switch
            {
                MlTasks.Binary => ["auc", "accuracy", "f1", "logLoss"],
                MlTasks.Multiclass => ["macroF1", "microAccuracy", "logLoss"],
                _ => ["r2", "rmse", "mae"],
            };
            Console.WriteLine($"{Path.GetFileName(source)} ({resolvedTask}, {analysis.DataRows} rows, 5-fold CV, selection metric {plan.Metric})");
            Console.WriteLine($"| candidate | {string.Join(" | ", shown)} |");
            Console.WriteLine($"|---|{string.Concat(shown.Select(_ => "---|"))}");
            IReadOnlyList<LeaderboardEntry> board = Leaderboard.Aggregate(plan.Candidates, results, 5, plan.Metric);
            foreach (LeaderboardEntry entry in board)
            {
                Console.WriteLine(entry.Error is not null
                    ? $"| {entry.CandidateId} | failed: {entry.Error} |"
                    : $"| {entry.CandidateId} | {string.Join(" | ", shown.Select(m => $"{entry.Metrics[m].Mean:F4} ± {entry.Metrics[m].Std:F4}"))} |");
            }

            // The winner is the training run's rule (Leaderboard.Rank), ties on the metric included.
            LeaderboardEntry? winner = Leaderboard.Best(board);
            string headline = winner is null ? "" : TaskMetrics.TieBreakers.FirstOrDefault(winner.Metrics.ContainsKey) ?? "r2";
            Console.WriteLine(winner is null ? "no candidate succeeded"
                : $"winner: {winner.CandidateId} ({headline} {winner.Metrics[headline].Mean:F4}, {plan.Metric} {winner.Metrics[plan.Metric].Mean:F4})");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
