using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
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
/// its completion, for the dev host's settings and a few alternatives, a fresh emulator and engine per setting.
/// </summary>
public static class FanOutBench
{
    private const string Orchestrator = "BenchFanOut";
    private const string Activity = "BenchEcho";

    public static async Task<int> RunAsync(int activities, int repeats, bool devHostOnly = false)
    {
        string root = RepoRoot.Find();
        string state = Path.Combine(Path.GetTempPath(), "lepton-bench-fanout-" + Environment.ProcessId);
        Directory.CreateDirectory(state);
        try
        {
            await MeasureSettingsAsync(root, state, activities, repeats, devHostOnly);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM or Ctrl-C stopped the engine's host: the emulator and engine were disposed on the way out.
            Console.Error.WriteLine("Fan-out benchmark stopped.");
            return 1;
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }

        return 0;
    }

    private static async Task MeasureSettingsAsync(string root, string state, int activities, int repeats, bool devHostOnly)
    {
        HostJson hostJson = HostJson.Load(root);
        DurableEngineOptions shipped = Options(hostJson);
        var settings = new (string Name, DurableEngineOptions Options)[]
        {
            ($"dev host (host.json: {hostJson.MaxConcurrentActivities} activities at once, extended sessions {(hostJson.ExtendedSessions ? "on" : "off")}, "
                + $"buffer {hostJson.ControlQueueBufferThreshold}; {shipped.ActivityFetchesInFlight} activity fetches in flight)", shipped),
            ("one activity fetch in flight (the sidecar's own)", Options(hostJson, fetches: 1)),
            ("two activity fetches in flight", Options(hostJson, fetches: 2)),
            ("eight activity fetches in flight", Options(hostJson, fetches: 8)),
            ("control-queue buffer 64 (the provider's default)", Options(hostJson, buffer: 64)),
            ("control-queue buffer 64, one activity fetch in flight (before)", Options(hostJson, fetches: 1, buffer: 64)),
            ("32 activities at once", Options(hostJson, activities: 32)),
            ("extended sessions off", Options(hostJson, extendedSessions: false)),
        };
        Console.WriteLine($"Durable fan-out of {activities:N0} trivial activities, {repeats} runs per setting after a warm-up ({Environment.ProcessorCount} cores)");
        Console.WriteLine("| setting | activities/s (median) | runs |");
        Console.WriteLine("|---|---|---|");
        // Each setting gets a fresh in-memory emulator (the dev host's default): Azurite's queue sweep, every 60 s, costs
        // the messages consumed times the messages stored, and after a few settings' runs it held Azurite at a full core
        // for minutes. The first setting also pays for this process's JIT: a setting measured first was the slowest of
        // every run, so one is measured first and dropped.
        await OnFreshEmulatorAsync(root, Path.Combine(state, "warm-up"), Options(hostJson), activities, repeats);
        int index = 0;
        foreach ((string name, DurableEngineOptions options) in devHostOnly ? settings.Take(1) : settings)
        {
            double[] rates = await OnFreshEmulatorAsync(root, Path.Combine(state, $"setting-{++index}"), options, activities, repeats);
            Console.WriteLine($"| {name} | {Median(rates):N0} | {string.Join(", ", rates.Select(r => r.ToString("N0")))} |");
        }
    }

    private static async Task<double[]> OnFreshEmulatorAsync(string root, string state, DurableEngineOptions options, int activities, int repeats)
    {
        Directory.CreateDirectory(state);
        LocalAccounts accounts = LocalAccounts.LoadOrCreate(state, 1);
        int[] free = DevHostApp.FreePorts(3);
        var ports = new AzuritePorts(free[0], free[1], free[2]);
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root, state, accounts, ports, persist: false, NullLogger.Instance, CancellationToken.None);
        return await MeasureAsync(accounts.PlatformConnectionString(ports), options, activities, repeats);
    }

    /// <summary>The dev host's settings, with one or two of them changed.</summary>
    private static DurableEngineOptions Options(HostJson hostJson, int? activities = null, bool? extendedSessions = null, int? fetches = null, int? buffer = null)
    {
        DurableEngineOptions options = DurableEngineOptions.FromHostJson(hostJson);
        options.MaxConcurrentActivities = activities ?? options.MaxConcurrentActivities;
        options.ExtendedSessions = extendedSessions ?? options.ExtendedSessions;
        options.ActivityFetchesInFlight = fetches ?? options.ActivityFetchesInFlight;
        options.ControlQueueBufferThreshold = buffer ?? options.ControlQueueBufferThreshold;
        return options;
    }

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
        // SIGTERM stops the host (its console lifetime) and with it the worker: a run then never completes, so waiting ends.
        CancellationToken stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        // A fresh emulator answers its first requests slowly: a small run and a full one are dropped.
        await RunOnceAsync(client, Math.Min(activities, 50), stopping);
        await RunOnceAsync(client, activities, stopping);
        var rates = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            rates[i] = activities / (await RunOnceAsync(client, activities, stopping)).TotalSeconds;
        }

        await host.StopAsync();
        return rates;
    }

    private static async Task<TimeSpan> RunOnceAsync(DurableTaskClient client, int activities, CancellationToken stopping)
    {
        var clock = Stopwatch.StartNew();
        string id = await client.ScheduleNewOrchestrationInstanceAsync(Orchestrator, activities);
        // Polled here rather than with WaitForInstanceCompletionAsync, whose own polling would round the time up.
        OrchestrationMetadata? done = null;
        while (done?.RuntimeStatus is null or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running)
        {
            await Task.Delay(20, stopping);
            try
            {
                done = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
            }
            catch (RpcException)
            {
                // A status query can fail while the in-memory emulator sweeps its queues (see docs/benchmarks.md); the run goes on.
            }
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
