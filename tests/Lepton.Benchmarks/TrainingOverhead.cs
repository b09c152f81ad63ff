using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Benchmarks;

/// <summary>
/// Orchestration overhead: the same 5 candidates × 5 folds + final model, (a) in one process with Parallel.ForEach and
/// (b) as a training run through the dev host (durable engine on Azurite, activities, data fetched from blob storage).
/// Usage: training [--rows 100000] [--runs 4] [--candidates ID,ID].
/// </summary>
public static class TrainingOverhead
{
    private static readonly string[] DefaultCandidates = ["lbfgs-lr-l2-1", "lbfgs-lr-l2-0.1", "sdca-lr", "fasttree-20x100", "lightgbm-31x200"];

    public static async Task<int> RunAsync(int rows, int runs, string[]? candidates)
    {
        string[] chosen = candidates ?? DefaultCandidates;
        string work = Directory.CreateTempSubdirectory("lepton-bench-training").FullName;
        try
        {
            string source = Path.Combine(work, "generated.csv");
            Generate(source, rows);
            Console.WriteLine($"Generated {rows:N0} rows ({new FileInfo(source).Length / 1e6:F1} MB); {chosen.Length} candidates x 5 folds + final model, {Environment.ProcessorCount} cores");

            // Each side runs several times in one process: a fresh process's first run also pays for compiling the code it
            // runs, and the dev host (engine, HTTP and storage code besides the trainers) keeps compiling for a few runs more.
            double[] local = Enumerable.Range(0, runs).Select(_ => InProcess(source, work, chosen)).ToArray();
            (double Client, double Run)[] hosted = await ThroughDevHostAsync(source, work, runs, chosen);
            Console.WriteLine($"{chosen.Length} candidates: {string.Join(", ", chosen)}");
            Console.WriteLine("run | in process, Parallel.ForEach (max 8) | dev host, client view (run's own duration) | ratio");
            for (int i = 0; i < runs; i++)
            {
                Console.WriteLine($"{i + 1,3} | {local[i],7:F1} s | {hosted[i].Client,7:F1} s ({hosted[i].Run:F1} s) | {hosted[i].Client / local[i]:F2}x");
            }

            Console.WriteLine("goal: <= 1.2x");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The heavy path's cost: one network candidate (mlp-64, 5 folds + final model) trained by the same dev host twice —
    /// in-process activities, then through the queue and the trainer worker (SAS download, upload, callback).
    /// </summary>
    public static async Task<int> RunHeavyAsync(int rows)
    {
        string work = Directory.CreateTempSubdirectory("lepton-bench-heavy").FullName;
        try
        {
            string source = Path.Combine(work, "generated.csv");
            Generate(source, rows);
            await using BenchHost host = await BenchHost.StartAsync(Path.Combine(work, "state"));
            string key = await host.CreateTenantAsync("bench");
            await host.UploadAsync(key, "bench", "data", "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"label\", \"task\": \"binary\"}"));
            await host.UploadAsync(key, "bench", "data", "data.csv", await File.ReadAllBytesAsync(source));
            await host.WaitForDatasetAsync(key, "bench", "data");
            Console.WriteLine($"{rows:N0} rows x 10 features; mlp-64, 5 folds + final model; {Environment.ProcessorCount} cores, CPU backend");
            foreach (bool heavy in new[] { false, true, false, true })
            {
                var watch = Stopwatch.StartNew();
                JsonNode started = await host.SendAsync(HttpMethod.Post, "/api/tenants/bench/models", key,
                    new { name = heavy ? "heavy" : "inprocess", datasets = new[] { "data" }, label = "label", folds = 5, candidates = new[] { "mlp-64" }, heavy });
                await host.WaitForRunAsync(key, started["runId"]!.GetValue<string>());
                Console.WriteLine($"{(heavy ? "trainer worker (queue)" : "in-process activities"),-24} {watch.Elapsed.TotalSeconds,7:F1} s");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static double InProcess(string source, string work, string[] candidates)
    {
        var watch = Stopwatch.StartNew();
        string curated = Path.Combine(work, "curated.csv");
        SourceAnalysis analysis = LocalCuration.Curate(source, curated, new DatasetSpec(Label: "label")).Analysis;

        double curateSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var plan = new TrainingPlan(new TrainRequest("bench", "m", ["d"], "label", MlTasks.Binary, null, 5, candidates, "bench"), [], analysis.Schema!, "label",
            MlTasks.Binary, "auc", 5, TrainingService.Seed, analysis.DataRows, CandidateCatalog.Plan(MlTasks.Binary, candidates));
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(curated, "label"), 5, plan.Seed, stratify: true);
        string foldDir = Directory.CreateDirectory(Path.Combine(work, "folds")).FullName;
        // Each fold's files are cut once and shared by every candidate, as the platform does.
        (string Train, string Test)[] foldFiles = Enumerable.Range(0, 5).AsParallel().AsOrdered()
            .Select(f => FoldSplitter.WriteFold(curated, folds, f, Directory.CreateDirectory(Path.Combine(foldDir, f.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName))
            .ToArray();
        var grid = plan.Candidates.SelectMany(c => Enumerable.Range(0, 5).Select(f => (c, f))).ToList();
        var results = new System.Collections.Concurrent.ConcurrentBag<FoldResult>();
        Parallel.ForEach(grid, new ParallelOptions { MaxDegreeOfParallelism = 8 }, item =>
            results.Add(TrainingEngine.EvaluateFold(plan, item.c, foldFiles[item.f].Train, foldFiles[item.f].Test, item.f)));
        LeaderboardEntry best = Leaderboard.Best(Leaderboard.Aggregate(plan.Candidates, results.ToList(), 5, "auc"))!;
        TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == best.CandidateId), curated, work);
        Console.WriteLine($"  (curation {curateSeconds:F1} s, not counted; best {best.CandidateId} auc {best.Metrics["auc"].Mean:F4})");
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double Client, double Run)[]> ThroughDevHostAsync(string source, string work, int runs, string[] candidates)
    {
        await using BenchHost host = await BenchHost.StartAsync(Path.Combine(work, "state"));
        string key = await host.CreateTenantAsync("bench");
        await host.UploadAsync(key, "bench", "data", "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"label\", \"task\": \"binary\"}"));
        await host.UploadAsync(key, "bench", "data", "data.csv", await File.ReadAllBytesAsync(source));
        await host.WaitForDatasetAsync(key, "bench", "data");

        var timings = new (double Client, double Run)[runs];
        for (int i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            JsonNode started = await host.SendAsync(HttpMethod.Post, "/api/tenants/bench/models", key,
                new { name = "bench", datasets = new[] { "data" }, label = "label", folds = 5, candidates });
            JsonNode run = await host.WaitForRunAsync(key, started["runId"]!.GetValue<string>());
            timings[i] = (watch.Elapsed.TotalSeconds, (run["lastUpdatedAt"]!.GetValue<DateTimeOffset>() - run["createdAt"]!.GetValue<DateTimeOffset>()).TotalSeconds);
        }

        return timings;
    }

    /// <summary>Ten numeric features and a boolean label that depends on four of them, with noise.</summary>
    private static void Generate(string path, int rows)
    {
        var random = new Random(2026);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        writer.WriteLine("id,f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,label");
        var line = new StringBuilder();
        for (int i = 0; i < rows; i++)
        {
            double[] f = Enumerable.Range(0, 10).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            double z = (2 * f[0]) - (1.5 * f[1]) + (f[2] * f[3]) + (0.5 * f[4]) + (random.NextDouble() - 0.5);
            line.Clear().Append(i);
            foreach (double v in f)
            {
                line.Append(',').Append(v.ToString("F4", CultureInfo.InvariantCulture));
            }

            writer.WriteLine(line.Append(z > 0 ? ",true" : ",false"));
        }
    }
}
