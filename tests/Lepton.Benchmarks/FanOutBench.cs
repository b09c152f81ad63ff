using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lepton.DevHost;
using Lepton.DevHost.Durable;
using Lepton.DevHost.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lepton.Benchmarks;

/// <summary>
/// Durable fan-out of trivial activities on the local engine (the Durable Task Framework's Azure Storage provider on
/// Azurite, behind the sidecar, as the dev host runs it): activities per second from scheduling the orchestration to
/// its completion, for the dev host's settings and a few alternatives, one engine (and task hub) per setting.
/// </summary>
public static class FanOutBench
{
    private const string Orchestrator = "BenchFanOut";
    private const string Activity = "BenchEcho";

    public static async Task<int> RunAsync(int activities, int repeats)
    {
        string root = RepoRoot.Find();
        string state = Path.Combine(Path.GetTempPath(), "lepton-bench-fanout-" + Environment.ProcessId);
        Directory.CreateDirectory(state);
        try
        {
            await MeasureSettingsAsync(root, state, activities, repeats);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }

        return 0;
    }

    private static async Task MeasureSettingsAsync(string root, string state, int activities, int repeats)
    {
        LocalAccounts accounts = LocalAccounts.LoadOrCreate(state, 1);
        int[] free = DevHostApp.FreePorts(3);
        var ports = new AzuritePorts(free[0], free[1], free[2]);
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root, state, accounts, ports, persist: false, NullLogger.Instance, CancellationToken.None);
        string connection = accounts.PlatformConnectionString(ports);
        HostJson hostJson = HostJson.Load(root);

        var settings = new (string Name, DurableEngineOptions Options)[]
        {
            ($"dev host (host.json: {hostJson.MaxConcurrentActivities} activities at once, extended sessions {(hostJson.ExtendedSessions ? "on" : "off")})",
                Options(hostJson.MaxConcurrentActivities, 200, hostJson.ExtendedSessions)),
            ("8 activities at once, extended sessions off", Options(8, 200, extendedSessions: false)),
            ("8 activities at once, extended sessions on", Options(8, 200, extendedSessions: true)),
            ("32 activities at once, extended sessions off", Options(32, 200, extendedSessions: false)),
            ("32 activities at once, extended sessions on", Options(32, 200, extendedSessions: true)),
            ("32 activities at once, extended sessions on, polling <= 50 ms", Options(32, 50, extendedSessions: true)),
        };
        Console.WriteLine($"Durable fan-out of {activities:N0} trivial activities, {repeats} runs per setting after a warm-up ({Environment.ProcessorCount} cores)");
        Console.WriteLine("| setting | activities/s (median) | runs |");
        Console.WriteLine("|---|---|---|");
        int hub = 0;
        // The first engine on a fresh emulator also pays for JIT and Azurite's own start: measured once and dropped.
        DurableEngineOptions warmUp = Options(hostJson.MaxConcurrentActivities, 200, hostJson.ExtendedSessions);
        warmUp.HubName = "BenchWarmUp";
        await MeasureAsync(connection, warmUp, activities, 1);
        foreach ((string name, DurableEngineOptions options) in settings)
        {
            options.HubName = $"BenchFanOut{++hub}";
            double[] rates = await MeasureAsync(connection, options, activities, repeats);
            Console.WriteLine($"| {name} | {Median(rates):N0} | {string.Join(", ", rates.Select(r => r.ToString("N0")))} |");
        }
    }

    private static DurableEngineOptions Options(int activities, int pollingMs, bool extendedSessions) => new()
    {
        MaxConcurrentActivities = activities,
        MaxQueuePollingInterval = TimeSpan.FromMilliseconds(pollingMs),
        ExtendedSessions = extendedSessions,
    };

    private static async Task<double[]> MeasureAsync(string connection, DurableEngineOptions options, int activities, int repeats)
    {
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Error));
        await using DurableEngine engine = await DurableEngine.StartAsync(connection, options, DevHostApp.FreePorts(1)[0], loggers, CancellationToken.None);
        using IHost host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(services =>
            {
                services.AddDurableTaskClient(b => b.UseGrpc(engine.Channel));
                services.AddDurableTaskWorker(b =>
                {
                    b.UseGrpc(engine.Channel);
                    b.AddTasks(registry =>
                    {
                        registry.AddOrchestratorFunc<int, long>(Orchestrator, async (context, count) =>
                            (await Task.WhenAll(Enumerable.Range(0, count).Select(i => context.CallActivityAsync<int>(Activity, i)))).Sum(i => (long)i));
                        registry.AddActivityFunc<int, int>(Activity, (_, value) => value);
                    });
                });
            })
            .Build();
        await host.StartAsync();
        DurableTaskClient client = host.Services.GetRequiredService<DurableTaskClient>();
        await RunOnceAsync(client, Math.Min(activities, 50));
        var rates = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            rates[i] = activities / (await RunOnceAsync(client, activities)).TotalSeconds;
        }

        await host.StopAsync();
        return rates;
    }

    private static async Task<TimeSpan> RunOnceAsync(DurableTaskClient client, int activities)
    {
        var clock = Stopwatch.StartNew();
        string id = await client.ScheduleNewOrchestrationInstanceAsync(Orchestrator, activities);
        // Polled here rather than with WaitForInstanceCompletionAsync, whose own polling would round the time up.
        OrchestrationMetadata done;
        while ((done = (await client.GetInstanceAsync(id, getInputsAndOutputs: true))!).RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running)
        {
            await Task.Delay(20);
        }

        clock.Stop();
        long expected = (long)activities * (activities - 1) / 2;
        if (done.RuntimeStatus != OrchestrationRuntimeStatus.Completed || done.ReadOutputAs<long>() != expected)
        {
            throw new InvalidOperationException($"Fan-out run {id} ended {done.RuntimeStatus} with {done.SerializedOutput}, expected {expected}.");
        }

        return clock.Elapsed;
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
