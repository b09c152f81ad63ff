using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lepton.Benchmarks;

/// <summary>
/// Serving on loopback with wrk: (a) a constant endpoint of the same dev host, (b) single-row predictions with a
/// logistic-regression and a LightGBM model, (c) scikit-learn behind FastAPI + uvicorn; then p50/p99 of (b, LR) at half
/// its maximum rate, with a paced .NET client and with hey's rate-limited workers, each also as the host measured it (its
/// own request durations, without the clients' scheduling on the same cores). Usage: serving [--seconds 10].
/// </summary>
public static partial class Serving
{
    public static async Task<int> RunAsync(int seconds)
    {
        string[] missing = new[] { "wrk", "hey" }.Where(tool => !OnPath(tool)).ToArray();
        if (missing.Length > 0)
        {
            Console.Error.WriteLine($"serving drives the load with wrk and hey; not found: {string.Join(", ", missing)} (Debian: apt-get install wrk hey)");
            return 2;
        }

        string work = Directory.CreateTempSubdirectory("lepton-bench-serving").FullName;
        try
        {
            string data = Path.Combine(work, "breast_cancer.csv");
            string[] a = File.ReadAllLines(Path.Combine(BenchHost.Repo, "samples", "breast_cancer_hospital_a.csv"));
            string[] b = File.ReadAllLines(Path.Combine(BenchHost.Repo, "samples", "breast_cancer_hospital_b.csv"));
            File.WriteAllLines(data, a.Concat(b.Skip(1)));

            await using BenchHost host = await BenchHost.StartAsync(Path.Combine(work, "state"), "--benchmark-endpoint");
            string key = await host.CreateTenantAsync("bench");
            await host.UploadAsync(key, "bench", "bc", "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"malignant\", \"task\": \"binary\"}"));
            await host.UploadAsync(key, "bench", "bc", "bc.csv", await File.ReadAllBytesAsync(data));
            await host.WaitForDatasetAsync(key, "bench", "bc");
            foreach ((string model, string candidate) in new[] { ("bc-lr", "lbfgs-lr-l2-0.1"), ("bc-lgbm", "lightgbm-31x200") })
            {
                JsonNode run = await host.SendAsync(HttpMethod.Post, "/api/tenants/bench/models", key,
                    new { name = model, datasets = new[] { "bc" }, folds = 2, candidates = new[] { candidate } });
                await host.WaitForRunAsync(key, run["runId"]!.GetValue<string>());
            }

            string[] header = a[0].Split(',');
            string[] first = a[1].Split(',');
            var row = header.Zip(first).Where(p => p.First != "malignant").ToDictionary(p => p.First, p => double.Parse(p.Second, CultureInfo.InvariantCulture));
            string body = JsonSerializer.Serialize(new { rows = new[] { row } });
            string baseUrl = $"http://127.0.0.1:{host.Port}";

            // Warm every route first (model sessions, JIT tiers), so the first route measured does not pay for the others.
            // A predict route keeps compiling for about 10-15 s under load after a start (dotnet-counters: hundreds of
            // methods per 5 s, then a trickle), so the predict routes warm longer than the constant endpoint.
            foreach ((string url, int warmSeconds) in new[] { ("bench/constant", 2), ("tenants/bench/models/bc-lr/predict", 10), ("tenants/bench/models/bc-lgbm/predict", 5) })
            {
                Wrk("warm-up", $"{baseUrl}/api/{url}", body, key, warmSeconds, work);
            }

            var results = new List<(string Name, double Rps, string P50, string P99)>
            {
                Wrk("(a) constant endpoint, same dev host", $"{baseUrl}/api/bench/constant", body, key, seconds, work),
                Wrk("(b) predict, logistic regression", $"{baseUrl}/api/tenants/bench/models/bc-lr/predict", body, key, seconds, work),
                Wrk("(b) predict, LightGBM", $"{baseUrl}/api/tenants/bench/models/bc-lgbm/predict", body, key, seconds, work),
            };
            if (await PeerAsync(data, body, seconds, work) is { } peer)
            {
                results.Add(peer);
            }

            double half = results[1].Rps / 2;
            // The paced client warms up too (its connections, its own JIT) before the run that is measured.
            await PacedAsync($"{baseUrl}/api/tenants/bench/models/bc-lr/predict", body, key, half, 2);
            using var latency = new HttpClient { BaseAddress = new Uri(baseUrl) };
            await StartServerLatencyAsync(latency);
            (double p50, double p99, double achieved) = await PacedAsync($"{baseUrl}/api/tenants/bench/models/bc-lr/predict", body, key, half, seconds);
            JsonNode pacedServer = await latency.GetFromJsonAsync<JsonNode>("/api/bench/latency") ?? throw new InvalidOperationException("no latency");

            Console.WriteLine($"| endpoint ({seconds} s, wrk -t2 -c32) | requests/s | p50 | p99 |");
            Console.WriteLine("|---|---|---|---|");
            foreach ((string name, double rps, string p50Text, string p99Text) in results)
            {
                Console.WriteLine($"| {name} | {rps:N0} | {p50Text} | {p99Text} |");
            }

            Console.WriteLine($"| (b) logistic regression at half its maximum, paced .NET client | {achieved:N0} | {p50:F2}ms | {p99:F2}ms |");
            Console.WriteLine(ServerRow("the same, as the host measured it", pacedServer, seconds));
            await StartServerLatencyAsync(latency);
            if (Hey($"{baseUrl}/api/tenants/bench/models/bc-lr/predict", body, key, half, seconds, work) is { } hey)
            {
                Console.WriteLine($"| (b) logistic regression at half its maximum, hey (64 rate-limited workers) | {hey.Rps:N0} | {hey.P50:F2}ms | {hey.P99:F2}ms |");
                Console.WriteLine(ServerRow("the same, as the host measured it", await latency.GetFromJsonAsync<JsonNode>("/api/bench/latency") ?? throw new InvalidOperationException("no latency"), seconds));
            }

            Console.WriteLine($"(b)/(a) = {results[1].Rps / results[0].Rps:P0}; (b)/(c) = {(results.Count > 3 ? (results[1].Rps / results[3].Rps).ToString("F1", CultureInfo.InvariantCulture) + "x" : "n/a")}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (string, double, string, string) Wrk(string name, string url, string body, string key, int seconds, string work)
    {
        string script = Path.Combine(work, "post.lua");
        // A Lua long string needs no escaping (JSON holds no "]]").
        File.WriteAllText(script, $"wrk.method = \"POST\"\nwrk.body = [[{body}]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"x-api-key\"] = \"{key}\"\n");
        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true };
        foreach (string arg in new[] { "-t2", "-c32", $"-d{seconds}s", "--latency", "-s", script, url })
        {
            start.ArgumentList.Add(arg);
        }

        using Process wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk is needed: apt-get install wrk");
        string output = wrk.StandardOutput.ReadToEnd();
        wrk.WaitForExit();
        if (output.Contains("Non-2xx", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{name}: some responses were errors:\n{output}");
        }

        double rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        return (name, rps, Percentile(output, "50"), Percentile(output, "99"));
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>
    /// p50/p99 at a fixed rate with hey (Debian's <c>hey</c>): 64 workers, each sending at most rate/64 requests a second
    /// and waiting for each response, so no request queues behind the client's own scheduling. A lighter client than
    /// the paced .NET one, which shares the two cores with the server.
    /// </summary>
    private static (double Rps, double P50, double P99)? Hey(string url, string body, string key, double rate, int seconds, string work)
    {
        const int Workers = 64;
        string bodyFile = Path.Combine(work, "body.json");
        File.WriteAllText(bodyFile, body);
        var start = new ProcessStartInfo("hey") { RedirectStandardOutput = true };
        foreach (string arg in new[] { "-z", $"{seconds}s", "-c", $"{Workers}", "-q", (rate / Workers).ToString("F0", CultureInfo.InvariantCulture),
            "-m", "POST", "-T", "application/json", "-H", $"x-api-key: {key}", "-D", bodyFile, url })
        {
            start.ArgumentList.Add(arg);
        }

        Process? hey;
        try
        {
            hey = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("hey skipped: apt-get install hey");
            return null;
        }

        using (hey)
        {
            string output = hey!.StandardOutput.ReadToEnd();
            hey.WaitForExit();
            string statuses = output[(output.IndexOf("Status code distribution:", StringComparison.Ordinal) + 1)..];
            if (!Regex.IsMatch(statuses, @"\[200\]\s+\d+ responses") || Regex.IsMatch(statuses, @"\[(?!200\])\d+\]"))
            {
                throw new InvalidOperationException($"hey: some responses were errors:\n{output}");
            }

            double Seconds(string percent) => double.Parse(Regex.Match(output, $@"\s{percent}% in ([0-9.]+) secs").Groups[1].Value, CultureInfo.InvariantCulture);
            double rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            return (rps, Seconds("50") * 1000, Seconds("99") * 1000);
        }
    }

    private static async Task<(string, double, string, string)?> PeerAsync(string data, string body, int seconds, string work)
    {
        int port = BenchHost.FreePort();
        var start = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = BenchHost.Repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-m", "uvicorn", "--app-dir", "scripts", "sklearn_serve:app", "--port", port.ToString(), "--workers", "2", "--log-level", "warning" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DATA"] = data;
        using Process uvicorn = Process.Start(start)!;
        uvicorn.BeginOutputReadLine();
        uvicorn.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient();
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    using var probe = await http.PostAsync($"http://127.0.0.1:{port}/predict", new StringContent(body, Encoding.UTF8, "application/json"));
                    if (probe.IsSuccessStatusCode)
                    {
                        return Wrk("(c) scikit-learn + FastAPI + uvicorn (2 workers)", $"http://127.0.0.1:{port}/predict", body, "none", seconds, work);
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(300);
            }

            Console.WriteLine("(c) skipped: uvicorn did not start (apt-get install python3-fastapi python3-uvicorn python3-sklearn python3-pandas)");
            return null;
        }
        finally
        {
            uvicorn.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Requests sent at a fixed rate (not as fast as possible), so latency is measured without queueing.</summary>
    private static async Task<(double P50, double P99, double Achieved)> PacedAsync(string url, string body, string key, double rate, int seconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        long total = (long)(rate * seconds);
        for (long i = 0; i < total; i++)
        {
            double due = i / rate;
            double wait = due - clock.Elapsed.TotalSeconds;
            if (wait > 0.002)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait));
            }

            tasks.Add(Task.Run(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("x-api-key", key);
                var watch = Stopwatch.StartNew();
                using HttpResponseMessage response = await http.SendAsync(request);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }));
        }

        await Task.WhenAll(tasks);
        double[] sorted = latencies.Order().ToArray();
        return (sorted[(int)(sorted.Length * 0.5)], sorted[(int)(sorted.Length * 0.99)], total / clock.Elapsed.TotalSeconds);
    }

    // The dev host's own request durations of the predict route (--benchmark-endpoint): what the server took, without the
    // scheduling delays that a load generator on the same cores adds to every latency it measures.
    private const string PredictRoute = "/api/tenants/{tenant}/models/{model}/predict";

    private static async Task StartServerLatencyAsync(HttpClient host)
    {
        using HttpResponseMessage started = await host.PostAsync($"/api/bench/latency?route={Uri.EscapeDataString(PredictRoute)}", null);
        started.EnsureSuccessStatusCode();
    }

    private static string ServerRow(string name, JsonNode summary, int seconds) =>
        $"| {name} (p95 {summary["p95"]!.GetValue<double>():F2}ms) | {summary["requests"]!.GetValue<int>() / (double)seconds:N0} | {summary["p50"]!.GetValue<double>():F2}ms | {summary["p99"]!.GetValue<double>():F2}ms |";

    private static string Percentile(string wrkOutput, string percent) =>
        Regex.Match(wrkOutput, $@"^\s+{percent}%\s+(\S+)", RegexOptions.Multiline).Groups[1].Value;

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();
}
