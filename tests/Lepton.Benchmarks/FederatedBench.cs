using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Lepton.Benchmarks;

/// <summary>
/// Federated against pooled against each member alone, on the same evaluation sets, through a Release dev host: the
/// three breast-cancer hospitals and the five digits members. Two collaborations over the same tenants and data (one
/// pooled, one federated) hold out the same rows per member; the pooled run's contribution report gives each member's
/// model alone on those rows. Usage: federated [--rounds 30].
/// </summary>
public static class FederatedBench
{
    public static async Task<int> RunAsync(int rounds)
    {
        string state = Directory.CreateTempSubdirectory("lepton-bench-federated").FullName;
        await using BenchHost host = await BenchHost.StartAsync(state, "--tenant-accounts", "16");
        Console.WriteLine($"{Environment.ProcessorCount} cores; pooled: candidate mlp-64, 3 folds; federated: MLP 64, FedAvg, {rounds} rounds x 2 local epochs");
        await CompareAsync(host, "bcb", ["breast_cancer_hospital_a.csv", "breast_cancer_hospital_b.csv", "breast_cancer_hospital_c.csv"], "malignant", "binary", "auc", rounds);
        await CompareAsync(host, "dgb", Enumerable.Range(1, 5).Select(i => $"digits_member_{i}.csv").ToArray(), "digit", "multiclass", "microAccuracy", rounds);
        return 0;
    }

    private static async Task CompareAsync(BenchHost host, string id, string[] files, string label, string type, string metric, int rounds)
    {
        var members = new List<(string Tenant, string Key)>();
        for (int i = 0; i < files.Length; i++)
        {
            string tenant = $"{id}-m{i + 1}";
            string key = await host.CreateTenantAsync(tenant);
            await host.UploadAsync(key, tenant, "data", "data.csv", File.ReadAllBytes(Path.Combine(BenchHost.Repo, "samples", files[i])));
            members.Add((tenant, key));
        }

        foreach ((string tenant, string key) in members)
        {
            await host.WaitForDatasetAsync(key, tenant, "data");
        }

        string admin = members[0].Key;
        foreach (string mode in new[] { "pooled", "federated" })
        {
            string c = $"{id}-{mode}";
            await host.SendAsync(HttpMethod.Post, "/api/collaborations", admin,
                new { id = c, mode, members = members.Select(m => m.Tenant), task = new { label, type, metric } });
            foreach ((string tenant, string key) in members)
            {
                await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{c}/accept", key, new { });
                await host.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant}/datasets/data/grants", key, new { collaboration = c, purposes = new[] { "train", "evaluate" } });
            }
        }

        var watch = Stopwatch.StartNew();
        JsonNode pooledRun = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}-pooled/models", admin, new { name = "m", candidates = new[] { "mlp-64" }, folds = 3 });
        await host.WaitForRunAsync(admin, pooledRun["runId"]!.GetValue<string>());
        double pooledSeconds = watch.Elapsed.TotalSeconds;
        JsonNode pooled = (await host.SendAsync(HttpMethod.Get, $"/api/collaborations/{id}-pooled/models/m", admin))["versions"]![0]!;
        JsonNode contributions = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}-pooled/models/m/contributions", admin, new { method = "shapley" });
        await host.WaitForRunAsync(admin, contributions["runId"]!.GetValue<string>());
        JsonNode report = await host.SendAsync(HttpMethod.Get, contributions["reportUrl"]!.GetValue<string>(), admin);

        watch.Restart();
        JsonNode federatedRun = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}-federated/models", admin,
            new { name = "m", rounds, patience = rounds, localEpochs = 2, hidden = new[] { 64 } });
        JsonNode run = await host.WaitForRunAsync(admin, federatedRun["runId"]!.GetValue<string>());
        double federatedSeconds = watch.Elapsed.TotalSeconds;
        JsonNode federated = (await host.SendAsync(HttpMethod.Get, $"/api/collaborations/{id}-federated/models/m", admin))["versions"]![0]!;

        double pooledValue = pooled["evaluation"]!["*"]![metric]!.GetValue<double>();
        double federatedValue = federated["evaluation"]!["*"]![metric]!.GetValue<double>();
        double[] history = federated["federated"]!["history"]!.AsArray().Select(h => h!["metric"]?.GetValue<double>() ?? double.NaN).ToArray();
        int converged = Array.FindIndex(history, v => Math.Abs(v - history.Max()) <= 0.005) + 1;
        Console.WriteLine($"{id}: {files.Length} members, {metric} on the members' held-out rows");
        Console.WriteLine($"  pooled (mlp-64):        {pooledValue:F4}  ({pooledSeconds:F1} s)");
        Console.WriteLine($"  federated (FedAvg MLP): {federatedValue:F4}  ({federatedSeconds:F1} s, {federatedSeconds / rounds * 1000:F0} ms a round, within 0.5 pt of its best by round {converged})");
        foreach (JsonNode? entry in report["coalitions"]!.AsArray().Where(e => e!["members"]!.AsArray().Count == 1))
        {
            Console.WriteLine($"  {entry!["members"]![0]} alone: {entry["score"]!.GetValue<double>():F4}");
        }

        _ = run;
        if (files.Length >= 5)
        {
            await OneMemberFailingAsync(host, id, members, rounds);
        }
    }

    /// <summary>
    /// The same federated run with one member failing every round from round 2 on (its grant withdrawn: each of its reads
    /// is refused, without retries): the run completes on the others; waiting for everyone would never finish a round.
    /// </summary>
    private static async Task OneMemberFailingAsync(BenchHost host, string id, List<(string Tenant, string Key)> members, int rounds)
    {
        string admin = members[0].Key, c = $"{id}-federated";
        var watch = Stopwatch.StartNew();
        JsonNode started = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{c}/models", admin,
            new { name = "m2", rounds, patience = rounds, localEpochs = 2, hidden = new[] { 64 } });
        string runId = started["runId"]!.GetValue<string>();
        while ((await host.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", admin))["details"]?["Rounds"]?.AsArray().Count is not > 0)
        {
            await Task.Delay(20);
        }

        (string failing, string failingKey) = members[^1];
        JsonNode grants = await host.SendAsync(HttpMethod.Get, $"/api/tenants/{failing}/datasets/data/grants", failingKey);
        foreach (JsonNode? grant in grants["grants"]!.AsArray().Where(g => g!["collaboration"]?.GetValue<string>() == c && !g["revoked"]!.GetValue<bool>()))
        {
            await host.SendAsync(HttpMethod.Delete, $"/api/tenants/{failing}/datasets/data/grants/{grant!["grantId"]}", failingKey);
        }

        JsonNode run = await host.WaitForRunAsync(admin, runId);
        double seconds = watch.Elapsed.TotalSeconds;
        JsonArray history = run["details"]!["Rounds"]!.AsArray();
        int withoutIt = history.Count(r => r!["Skipped"]!.AsArray().Any(s => s!.GetValue<string>() == failing));
        JsonArray versions = (await host.SendAsync(HttpMethod.Get, $"/api/collaborations/{c}/models/m2", admin))["versions"]!.AsArray();
        JsonNode version = versions[versions.Count - 1]!;
        Console.WriteLine($"  1 of {members.Count} failing from round 2: completed {history.Count}/{rounds} rounds ({withoutIt} without {failing}), "
            + $"{seconds / rounds * 1000:F0} ms a round, final {version["metric"]} {version["metricValue"]!.GetValue<double>():F4}");
    }
}
