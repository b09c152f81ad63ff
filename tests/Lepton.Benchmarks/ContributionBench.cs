using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;

namespace Lepton.Benchmarks;

/// <summary>
/// Contribution runs through a Release dev host on the digits split (samples/digits_member_*.csv; logistic regression):
/// exact Shapley over 5 and 8 members (wall time, coalitions, cost against training the pooled model once), and on 10
/// members the sampled estimator against the exact values — replayed on the exact run's own coalition table, so the
/// trainings it would use are counted exactly. Usage: contributions [--members 5,8,10] [--seeds 5].
/// </summary>
public static class ContributionBench
{
    public static async Task<int> RunAsync(int[] sizes, int seeds)
    {
        string state = Directory.CreateTempSubdirectory("lepton-bench-contrib").FullName;
        await using BenchHost host = await BenchHost.StartAsync(state, "--tenant-accounts", "40");
        Console.WriteLine($"{Environment.ProcessorCount} cores; digits (1,797 rows, 64 features, 10 classes), candidate lbfgs-maxent-l2-1, metric microAccuracy");
        foreach (int n in sizes)
        {
            string id = $"bench{n}";
            byte[][] parts = Split(n);
            var keys = new List<(string Tenant, string Key)>();
            for (int i = 0; i < n; i++)
            {
                string tenant = $"{id}-m{i + 1}";
                string key = await host.CreateTenantAsync(tenant);
                await host.UploadAsync(key, tenant, "digits", "digits.csv", parts[i]);
                keys.Add((tenant, key));
            }

            foreach ((string tenant, string key) in keys)
            {
                await host.WaitForDatasetAsync(key, tenant, "digits");
            }

            string admin = keys[0].Key;
            await host.SendAsync(HttpMethod.Post, "/api/collaborations", admin,
                new { id, members = keys.Select(k => k.Tenant), task = new { label = "digit", type = "multiclass", metric = "microAccuracy" } });
            foreach ((string tenant, string key) in keys)
            {
                await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}/accept", key, new { });
                await host.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant}/datasets/digits/grants", key, new { collaboration = id, purposes = new[] { "train", "evaluate" } });
            }

            var watch = Stopwatch.StartNew();
            JsonNode training = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}/models", admin,
                new { name = "digits", candidates = new[] { "lbfgs-maxent-l2-1" }, folds = 2 });
            await host.WaitForRunAsync(admin, training["runId"]!.GetValue<string>());
            double trainSeconds = watch.Elapsed.TotalSeconds;

            watch.Restart();
            JsonNode started = await host.SendAsync(HttpMethod.Post, $"/api/collaborations/{id}/models/digits/contributions", admin, new { method = "shapley", seed = 1 });
            await host.WaitForRunAsync(admin, started["runId"]!.GetValue<string>());
            double seconds = watch.Elapsed.TotalSeconds;
            JsonNode report = await host.SendAsync(HttpMethod.Get, started["reportUrl"]!.GetValue<string>(), admin);
            int trainings = report["trainings"]!.GetValue<int>();
            Console.WriteLine($"{n,2} members exact Shapley: {trainings,5} coalition trainings in {seconds,6:F1} s "
                + $"({seconds / trainings * 1000:F0} ms each); pooled training run (2 folds + final) {trainSeconds:F1} s; ratio {seconds / trainSeconds:F1}x");
            Console.WriteLine("   shares: " + string.Join(", ", report["members"]!.AsArray().Select(m => $"{m!["share"]!.GetValue<double>():F1}%")));

            if (n >= 10)
            {
                SampledAgainstExact(report, seeds);
            }
        }

        return 0;
    }

    /// <summary>The sampler on the exact run's coalition table: share error and the distinct coalitions (trainings) it needs.</summary>
    private static void SampledAgainstExact(JsonNode report, int seeds)
    {
        var table = report["coalitions"]!.AsArray().ToDictionary(c => c!["mask"]!.GetValue<ulong>(), c => c!["utility"]!.GetValue<double>());
        double[] exactShares = report["members"]!.AsArray().Select(m => m!["share"]!.GetValue<double>()).ToArray();
        int n = exactShares.Length, exactTrainings = (1 << n) - 1;
        foreach ((int maxSamples, double tolerance, double truncation) in new[]
        {
            (8, 0.01, 0.005), (16, 0.01, 0.005), (32, 0.01, 0.005), (64, 0.01, 0.005),
            (16, 0.01, 0.02), (32, 0.01, 0.02), (64, 0.01, 0.02), (32, 0.01, 0.05), (64, 0.01, 0.05),
        })
        {
            var errors = new List<double>();
            var maxErrors = new List<double>();
            var used = new List<int>();
            for (ulong seed = 1; seed <= (ulong)seeds; seed++)
            {
                var asked = new HashSet<ulong>();
                EstimatedValues sampled = ContributionEstimator.SampleShapleyAsync(n, seed, new SamplingOptions(maxSamples, tolerance, truncation),
                    masks =>
                    {
                        asked.UnionWith(masks);
                        return Task.FromResult<IReadOnlyDictionary<ulong, double>>(masks.Distinct().ToDictionary(m => m, m => table[m]));
                    }).GetAwaiter().GetResult();
                double[] shares = Shares.Normalize(sampled.Values);
                errors.Add(shares.Zip(exactShares).Average(p => Math.Abs(p.First - p.Second)));
                maxErrors.Add(shares.Zip(exactShares).Max(p => Math.Abs(p.First - p.Second)));
                used.Add(asked.Count(m => m != 0));
            }

            Console.WriteLine($"   sampled (<= {maxSamples} permutation pairs, truncation {truncation}): mean |share error| {errors.Average():F2} pp "
                + $"(worst member {maxErrors.Max():F2} pp), {used.Average():F0} trainings = {100.0 * used.Average() / exactTrainings:F0}% of exact, over {seeds} seeds");
        }
    }

    /// <summary>
    /// The digits rows split among n members, keeping the five members' label skew: 5 = the shares as published; more
    /// members split the first shares in two (alternate rows).
    /// </summary>
    private static byte[][] Split(int n)
    {
        var members = Enumerable.Range(1, 5).Select(i => File.ReadAllLines(Path.Combine(BenchHost.Repo, "samples", $"digits_member_{i}.csv"))).ToList();
        string header = members[0][0];
        var parts = members.Select(m => m.Skip(1).ToList()).ToList();
        for (int i = 0; parts.Count < n; i++)
        {
            List<string> whole = parts[i];
            parts[i] = whole.Where((_, r) => r % 2 == 0).ToList();
            parts.Add(whole.Where((_, r) => r % 2 == 1).ToList());
        }

        return parts.Take(n).Select(p => Encoding.UTF8.GetBytes(string.Join('\n', p.Prepend(header)) + "\n")).ToArray();
    }
}
