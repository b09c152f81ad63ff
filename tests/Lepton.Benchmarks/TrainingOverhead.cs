using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Configuration;
using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Benchmarks;

/// <summary>
/// Orchestration overhead: the same 5 candidates × 5 folds + final model, (a) in one process with Parallel.ForEach and
/// (b) as a training run through the dev host (durable engine on Azurite, activities, data fetched from blob storage).
/// Usage: training [--rows 100000].
/// </summary>
public static class TrainingOverhead
{
    private static readonly string[] Candidates = ["lbfgs-lr-l2-1", "lbfgs-lr-l2-0.1", "sdca-lr", "fasttree-20x100", "lightgbm-31x200"];

    public static async Task<int> RunAsync(int rows)
    {
        string work = Directory.CreateTempSubdirectory("lepton-bench-training").FullName;
        try
        {
            string source = Path.Combine(work, "generated.csv");
            Generate(source, rows);
            Console.WriteLine($"Generated {rows:N0} rows ({new FileInfo(source).Length / 1e6:F1} MB); 5 candidates x 5 folds + final model, {Environment.ProcessorCount} cores");

            double local = InProcess(source, work);
            Console.WriteLine($"in process, Parallel.ForEach (max 8):   {local,7:F1} s");
            (double client, double run) = await ThroughDevHostAsync(source, work);
            Console.WriteLine($"dev host training run (client view):    {client,7:F1} s   (run's own duration {run:F1} s)");
            Console.WriteLine($"overhead: {client / local:F2}x (goal <= 1.3x)");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static double InProcess(string source, string work)
    {
        var watch = Stopwatch.StartNew();
        SourceAnalysis analysis;
        using (FileStream input = File.OpenRead(source))
        {
            analysis = new SourceAnalyzer(new IngestionOptions()).Analyze(input, new FileInfo(source).Length, "generated.csv", new DatasetSpec(Label: "label"));
        }

        string curated = Path.Combine(work, "curated.csv");
        using (FileStream input = File.OpenRead(source))
        using (FileStream output = File.Create(curated))
        {
            new DatasetCleaner().Clean(input, output, analysis);
        }

        double curateSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var plan = new TrainingPlan(new TrainRequest("bench", "m", ["d"], "label", MlTasks.Binary, null, 5, Candidates, "bench"), [], analysis.Schema!, "label",
            MlTasks.Binary, "auc", 5, TrainingService.Seed, analysis.DataRows, CandidateCatalog.Plan(MlTasks.Binary, Candidates));
        int[] folds = FoldSplitter.Assign(FoldSplitter.ReadColumn(curated, "label"), 5, plan.Seed, stratify: true);
        string foldDir = Directory.CreateDirectory(Path.Combine(work, "folds")).FullName;
        var grid = plan.Candidates.SelectMany(c => Enumerable.Range(0, 5).Select(f => (c, f))).ToList();
        var results = new System.Collections.Concurrent.ConcurrentBag<FoldResult>();
        Parallel.ForEach(grid, new ParallelOptions { MaxDegreeOfParallelism = 8 }, item =>
        {
            (string train, string test) = FoldSplitter.WriteFold(curated, folds, item.f, foldDir);
            results.Add(TrainingEngine.EvaluateFold(plan, item.c, train, test, item.f));
        });
        LeaderboardEntry best = Leaderboard.Best(Leaderboard.Aggregate(plan.Candidates, results.ToList(), 5, "auc"))!;
        TrainingEngine.TrainFinal(plan, plan.Candidates.Single(c => c.Id == best.CandidateId), curated, work);
        Console.WriteLine($"  (curation {curateSeconds:F1} s, not counted; best {best.CandidateId} auc {best.Metrics["auc"].Mean:F4})");
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double Client, double Run)> ThroughDevHostAsync(string source, string work)
    {
        string repo = FindRepo();
        int port = FreePort();
        string adminKey = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { Path.Combine(repo, "functions/Lepton.DevHost/bin/Release/net10.0/Lepton.DevHost.dll"), "--port", port.ToString(), "--free-ports", "--state-dir", Path.Combine(work, "state") })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Lepton__AdminKey"] = adminKey;
        start.Environment["Lepton__RateLimit__PermitsPerSecond"] = "1000";
        using Process host = Process.Start(start)!;
        var ready = new TaskCompletionSource();
        host.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith("Lepton dev host ready", StringComparison.Ordinal) == true) { ready.TrySetResult(); } };
        host.ErrorDataReceived += (_, _) => { };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
            JsonNode tenant = await SendAsync(http, HttpMethod.Post, "/api/tenants", adminKey, new { id = "bench", name = "Bench" });
            string key = tenant["apiKey"]!.GetValue<string>();
            await UploadAsync(http, key, "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"label\", \"task\": \"binary\"}"));
            await UploadAsync(http, key, "data.csv", await File.ReadAllBytesAsync(source));
            while ((await SendAsync(http, HttpMethod.Get, "/api/tenants/bench/datasets/data", key, null, allowNotFound: true))?["latestVersion"]?.GetValue<int>() is not > 0)
            {
                await Task.Delay(500);
            }

            var watch = Stopwatch.StartNew();
            JsonNode started = await SendAsync(http, HttpMethod.Post, "/api/tenants/bench/models", key,
                new { name = "bench", datasets = new[] { "data" }, label = "label", folds = 5, candidates = Candidates });
            JsonNode run;
            do
            {
                await Task.Delay(200);
                run = await SendAsync(http, HttpMethod.Get, $"/api/runs/{started["runId"]}", key);
            }
            while (run["status"]!.GetValue<string>() is "Pending" or "Running");

            double client = watch.Elapsed.TotalSeconds;
            if (run["status"]!.GetValue<string>() != "Completed")
            {
                throw new InvalidOperationException($"The training run did not complete: {run.ToJsonString()}");
            }

            double own = (run["lastUpdatedAt"]!.GetValue<DateTimeOffset>() - run["createdAt"]!.GetValue<DateTimeOffset>()).TotalSeconds;
            return (client, own);
        }
        finally
        {
            using Process kill = Process.Start("kill", ["-TERM", host.Id.ToString()]);
            await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    private static async Task UploadAsync(HttpClient http, string key, string fileName, byte[] content)
    {
        JsonNode upload = await SendAsync(http, HttpMethod.Post, "/api/tenants/bench/uploads", key, new { dataset = "data", fileName });
        using var put = new HttpRequestMessage(HttpMethod.Put, upload["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(content) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        using HttpResponseMessage response = await http.SendAsync(put);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, string key, object? body = null, bool allowNotFound = false)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("x-api-key", key);
        using HttpResponseMessage response = await http.SendAsync(request);
        if (allowNotFound && response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return new JsonObject();
        }

        string text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)! : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
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

    private static string FindRepo()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lepton.Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run from the repository.");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
