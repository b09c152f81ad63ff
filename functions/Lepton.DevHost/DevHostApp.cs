using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Lepton.DevHost.Demo;
using Lepton.DevHost.Durable;
using Lepton.DevHost.Functions;
using Lepton.DevHost.Storage;
using Lepton.Functions;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc.Internal;

namespace Lepton.DevHost;

/// <summary>Starts Azurite, the durable engine and the function app's functions on Kestrel; stops all of them on Ctrl-C or SIGTERM.</summary>
public static class DevHostApp
{
    public static async Task<int> RunAsync(DevHostOptions options)
    {
        using ILoggerFactory bootLogs = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("DurableTask", LogLevel.Warning)
            .AddFilter("Microsoft.DurableTask", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Microsoft.Hosting", LogLevel.Warning));
        ILogger log = bootLogs.CreateLogger("Lepton.DevHost");
        string repoRoot = RepoRoot.Find();
        string stateDir = Path.GetFullPath(options.StateDirectory ?? Path.Combine(repoRoot, ".lepton"));
        Directory.CreateDirectory(stateDir);

        IReadOnlyList<FunctionDescriptor> functions;
        try
        {
            functions = FunctionCatalog.Discover(typeof(LeptonFunctionApp).Assembly);
        }
        catch (UnsupportedFunctionException e)
        {
            Console.Error.WriteLine($"Cannot start: {e.Message}");
            return 1;
        }

        using var stopping = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stopping.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stopping.Cancel(); });

        LocalAccounts accounts = LocalAccounts.LoadOrCreate(stateDir, options.TenantAccounts);
        var standard = new AzuritePorts(10000, 10001, 10002);
        bool standardTaken = !options.FreePorts && new[] { standard.Blob, standard.Queue, standard.Table }.Any(port => !IsPortFree(port));
        if (standardTaken)
        {
            // Something else (another user's emulator, with the well-known development key) holds 10000-10002: never use it.
            Console.WriteLine("Ports 10000-10002 are in use by another program; starting this host's own Azurite on free ports (as --free-ports does).");
        }

        // Not the HTTP port either: a caller may have chosen it as free a moment ago and Kestrel has not bound it yet.
        int[] free = FreePorts(5).Where(p => p != options.Port).Take(4).ToArray();
        AzuritePorts ports = options.FreePorts || standardTaken ? new AzuritePorts(free[0], free[1], free[2]) : standard;
        AzuriteProcess? azurite = null;
        DurableEngine? engine = null;
        TrainerProcess? trainer = null;
        WebApplication? app = null;
        try
        {
            azurite = await AzuriteProcess.StartAsync(repoRoot, stateDir, accounts, ports, options.Persist, log, stopping.Token);
            string platformConnection = accounts.PlatformConnectionString(ports);
            if (options.StorageOnly)
            {
                await FuncStartSupport.RunStorageOnlyAsync(options, repoRoot, platformConnection, accounts, ports, stopping.Token);
                return 0;
            }

            WebApplicationBuilder builder = CreateBuilder(options, repoRoot, platformConnection, accounts, ports);
            HostJson hostJson = HostJson.Load(repoRoot);
            DurableEngineOptions durableOptions = DurableEngineOptions.FromHostJson(hostJson);
            builder.Configuration.GetSection("Lepton:DevHost:Durable").Bind(durableOptions);
            engine = await DurableEngine.StartAsync(platformConnection, durableOptions, free[3], bootLogs, stopping.Token);

            if (builder.Configuration["Lepton:Audit:SigningKey"] is not { Length: > 0 })
            {
                // The audit tree heads' signing key: Key Vault in Azure; here a key kept with the rest of the local state.
                builder.Configuration["Lepton:Audit:SigningKey"] = LoadOrCreateSigningKey(stateDir);
            }

            string adminKey = builder.Configuration["Lepton:AdminKey"] is { Length: > 0 } configured ? configured : NewSecret();
            string functionKey = builder.Configuration["Lepton:DevHost:FunctionKey"] is { Length: > 0 } fk ? fk : NewSecret();
            builder.Configuration["Lepton:AdminKey"] = adminKey;
            var baseUrl = new Uri($"http://127.0.0.1:{options.Port}");
            // The trainer worker reports heavy training jobs to this host's completion function, with its function key.
            builder.Configuration["Lepton:HeavyTraining:CallbackBaseUrl"] = $"{baseUrl.ToString().TrimEnd('/')}/{hostJson.RoutePrefix}";
            builder.Configuration["Lepton:HeavyTraining:CallbackKey"] = functionKey;
            ConfigureServices(builder, functions, engine, new WebhookTarget(new Uri(baseUrl, $"/{hostJson.RoutePrefix}/events/blob-created?code={functionKey}")), () => app!.Services);

            app = builder.Build();
            app.UseRouting();
            HttpFunctionEndpoints.Map(app, functions, functionKey, hostJson.RoutePrefix);
            if (options.BenchmarkEndpoint)
            {
                // The serving benchmark's ceiling: same host, same pipeline, a constant body the size of a one-row prediction.
                const string constant = "{\"model\":\"bench\",\"version\":1,\"predictions\":[{\"label\":\"true\",\"score\":3.2154,\"probabilities\":{\"false\":0.0387,\"true\":0.9613}}]}";
                app.MapPost("/api/bench/constant", () => Results.Text(constant, "application/json"));
                var latency = new Benchmark.ServerLatency();
                app.Lifetime.ApplicationStopped.Register(latency.Dispose);
                app.MapPost("/api/bench/latency", (string route) => latency.Start(route));
                app.MapGet("/api/bench/latency", () => latency.Read());
            }

            await app.Services.GetRequiredService<Lepton.PlatformBootstrap>().EnsureCreatedAsync(stopping.Token);
            await app.StartAsync(stopping.Token);

            trainer = TrainerProcess.Start(repoRoot, stateDir, platformConnection, log);
            await WriteStateAsync(stateDir, baseUrl, adminKey, functionKey, ports, accounts);
            Console.WriteLine($"Platform admin key: {adminKey}");
            Console.WriteLine($"State (keys, storage endpoints): {Path.Combine(stateDir, "devhost.json")}");
            Console.WriteLine($"Lepton dev host ready on {baseUrl.ToString().TrimEnd('/')}");
            Console.WriteLine($"Web console: {string.Join('/', new[] { baseUrl.ToString().TrimEnd('/'), hostJson.RoutePrefix.Trim('/'), "console" }.Where(p => p.Length > 0))}/ (sign in with a tenant id and one of its API keys)");

            if (options.Demo)
            {
                int demoResult = await DemoRunner.RunAsync(baseUrl, adminKey, Path.Combine(repoRoot, "samples"), Console.Out, stopping.Token);
                if (options.ExitAfterDemo)
                {
                    return demoResult;
                }
            }

            await Task.Delay(Timeout.Infinite, stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return 0;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or SocketException)
        {
            Console.Error.WriteLine($"Cannot start: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            Console.WriteLine("Lepton dev host stopping");
            if (app is not null)
            {
                await app.StopAsync(TimeSpan.FromSeconds(10));
                await app.DisposeAsync();
            }

            if (trainer is not null)
            {
                await trainer.DisposeAsync();
            }

            if (engine is not null)
            {
                await engine.DisposeAsync();
            }

            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }

            Console.WriteLine("Lepton dev host stopped");
        }
    }

    internal static Dictionary<string, string?> StorageSettings(string platformConnection, LocalAccounts accounts, AzuritePorts ports) => new()
    {
        ["Lepton:Storage:PlatformConnection"] = platformConnection,
        ["Lepton:Storage:TenantAccounts"] = accounts.TenantAccountsSetting,
        ["Lepton:Storage:TenantBlobEndpointTemplate"] = $"http://127.0.0.1:{ports.Blob}/{{account}}",
    };

    private static string LoadOrCreateSigningKey(string stateDir)
    {
        string path = Path.Combine(stateDir, "audit-signing-key.pem");
        if (!File.Exists(path))
        {
            using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return File.ReadAllText(path);
    }

    private static WebApplicationBuilder CreateBuilder(DevHostOptions options, string repoRoot, string platformConnection, LocalAccounts accounts, AzuritePorts ports)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = options.Remaining,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The same settings file func start reads; environment variables and arguments still win.
        string localSettings = Path.Combine(repoRoot, "functions", "Lepton.Functions", "local.settings.json");
        if (File.Exists(localSettings))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(localSettings));
            if (doc.RootElement.TryGetProperty("Values", out JsonElement values))
            {
                var pairs = values.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                    .Select(p => KeyValuePair.Create(p.Name.Replace("__", ":", StringComparison.Ordinal), p.Value.GetString()));
                builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = pairs });
            }
        }

        // Storage always points at the Azurite this host started.
        builder.Configuration.AddInMemoryCollection(StorageSettings(platformConnection, accounts, ports));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.DurableTask", LogLevel.Warning);
        // The worker's work-item stream to the in-process sidecar goes quiet whenever nothing runs; the SDK then warns
        // every few seconds that it reconnects (it does, at once). Errors still show.
        builder.Logging.AddFilter("Microsoft.DurableTask.Worker.Grpc", LogLevel.Error);
        builder.Logging.AddFilter("DurableTask", LogLevel.Warning);
        // The Azure SDK logs every request at Information and every expected 404/409 (exists checks, create-if-missing)
        // at Warning: that buried the host's own lines and cost CPU on every call. Outages surface as the platform's own
        // warnings and 503s.
        builder.Logging.AddFilter("Azure", LogLevel.Error);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Http", LogLevel.Warning);
        return builder;
    }

    private static void ConfigureServices(WebApplicationBuilder builder, IReadOnlyList<FunctionDescriptor> functions, DurableEngine engine, WebhookTarget webhook, Func<IServiceProvider> rootServices)
    {
        builder.Services.AddLeptonFunctionApp(builder.Configuration);
        builder.Services.AddMvcCore();
        builder.Services.AddHttpClient();
        builder.Services.AddSingleton(webhook);
        builder.Services.AddHostedService<IngestWatcher>();
        builder.Services.AddDurableTaskClient(b =>
        {
            b.UseGrpc(engine.Channel);
            b.RegisterDirectly();
        });
        builder.Services.AddDurableTaskWorker(b =>
        {
            b.UseGrpc(options =>
            {
                options.Channel = engine.Channel;
                // The worker treats 120 s without a message as a silently dropped connection and reconnects, warning
                // each time; it counts on the backend's health pings, which this in-process sidecar does not send. A
                // channel inside the process cannot drop silently, so idle periods are only idle.
                options.SetSilentDisconnectTimeout(TimeSpan.Zero);
            });
            b.AddTasks(registry => FunctionTasks.Register(registry, functions, rootServices));
        });
    }

    private static async Task WriteStateAsync(string stateDir, Uri baseUrl, string adminKey, string functionKey, AzuritePorts ports, LocalAccounts accounts)
    {
        var state = new
        {
            url = baseUrl,
            adminKey,
            functionKey,
            pid = Environment.ProcessId,
            azurite = new { blob = $"http://127.0.0.1:{ports.Blob}", queue = $"http://127.0.0.1:{ports.Queue}", table = $"http://127.0.0.1:{ports.Table}" },
            accounts = accounts.All.Select(a => new { name = a.Name, key = a.Key }),
        };
        await File.WriteAllTextAsync(Path.Combine(stateDir, "devhost.json"), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Distinct free ports: all listeners are held open until each has its port, since the system may hand a port that was
    /// just released to the next request (Azurite's blob and queue services once got the same one).
    /// </summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
