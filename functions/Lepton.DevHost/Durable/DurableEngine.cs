using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;

namespace Lepton.DevHost.Durable;

/// <summary>Settings of the local durable engine, from "Lepton:DevHost:Durable".</summary>
public sealed class DurableEngineOptions
{
    /// <summary>The settings the Functions host takes from host.json, so the dev host runs with the same.</summary>
    public static DurableEngineOptions FromHostJson(HostJson hostJson) => new()
    {
        HubName = hostJson.HubName,
        MaxConcurrentActivities = hostJson.MaxConcurrentActivities,
        MaxConcurrentOrchestrations = hostJson.MaxConcurrentOrchestrations,
        ExtendedSessions = hostJson.ExtendedSessions,
        ControlQueueBufferThreshold = hostJson.ControlQueueBufferThreshold,
    };

    public string HubName { get; set; } = "LeptonHub";

    public int PartitionCount { get; set; } = 2;

    public int MaxConcurrentActivities { get; set; } = 8;

    public int MaxConcurrentOrchestrations { get; set; } = 8;

    /// <summary>Polling backs off to at most this when idle: low, so each step of a run starts promptly.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Short leases and visibility timeouts so a killed host's work is picked up again within seconds after a restart.</summary>
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Keeps a busy orchestration's history in memory between episodes instead of reloading it (host.json's extendedSessionsEnabled).</summary>
    public bool ExtendedSessions { get; set; }

    /// <summary>Activity messages fetched at once ahead of the dispatcher, within the activity limit (see <see cref="RenewingOrchestrationService"/>).</summary>
    public int ActivityFetchesInFlight { get; set; } = 4;

    /// <summary>Messages taken from a control queue at a time (the provider's default is 32).</summary>
    public int ControlQueueBatchSize { get; set; } = 32;

    /// <summary>
    /// Control-queue messages held in memory before the provider stops reading for a second (host.json's
    /// controlQueueBufferThreshold; the Functions host's default is 256). The provider's own default, 64, paced a fan-out's
    /// results at 64 a second.
    /// </summary>
    public int ControlQueueBufferThreshold { get; set; } = HostJson.DefaultControlQueueBufferThreshold;
}

/// <summary>
/// The Durable Task Framework with its Azure Storage provider on Azurite — the engine and storage layout Durable Functions
/// uses in Azure — behind the Microsoft.DurableTask gRPC sidecar, so TaskOrchestrationContext code runs unchanged.
/// State lives in storage: a restarted host picks up the runs in flight.
/// </summary>
public sealed class DurableEngine : IAsyncDisposable
{
    private readonly IHost _sidecar;

    private DurableEngine(IHost sidecar, GrpcChannel channel)
    {
        _sidecar = sidecar;
        Channel = channel;
    }

    public GrpcChannel Channel { get; }

    public static async Task<DurableEngine> StartAsync(string connectionString, DurableEngineOptions options, int port, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = options.HubName,
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            PartitionCount = options.PartitionCount,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            // A stable worker id lets a restarted host reclaim its own partition leases at once.
            WorkerId = $"lepton-devhost-{Environment.MachineName}",
            LeaseInterval = options.LeaseInterval,
            LeaseRenewInterval = options.LeaseInterval / 3,
            LeaseAcquireInterval = options.LeaseInterval / 3,
            ControlQueueVisibilityTimeout = options.VisibilityTimeout,
            ExtendedSessionsEnabled = options.ExtendedSessions,
            ControlQueueBatchSize = options.ControlQueueBatchSize,
            ControlQueueBufferThreshold = options.ControlQueueBufferThreshold,
            WorkItemQueueVisibilityTimeout = options.VisibilityTimeout,
            LoggerFactory = loggerFactory,
            // One local host: the app lease only delays a restart.
            UseAppLease = false,
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();

        string address = $"http://127.0.0.1:{port}";
        IHost sidecar = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging =>
            {
                logging.ClearProviders();
                logging.Services.AddSingleton(loggerFactory);
            })
            .ConfigureWebHostDefaults(web =>
            {
                web.UseUrls(address);
                web.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
                web.ConfigureServices(services =>
                {
                    services.AddGrpc();
                    // The dispatchers get the provider with activity lock renewal; the management API (queries, purge) the provider itself.
                    services.AddSingleton<IOrchestrationService>(new RenewingOrchestrationService(
                        service, options.VisibilityTimeout, options.ActivityFetchesInFlight, loggerFactory.CreateLogger<RenewingOrchestrationService>()));
                    services.AddSingleton<IOrchestrationServiceClient>(service);
                    services.AddSingleton<TaskHubGrpcServer>();
                });
                web.Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(endpoints => endpoints.MapGrpcService<TaskHubGrpcServer>());
                });
            })
            .Build();
        await sidecar.StartAsync(ct);
        return new DurableEngine(sidecar, GrpcChannel.ForAddress(address));
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.ShutdownAsync();
        Channel.Dispose();
        await _sidecar.StopAsync(TimeSpan.FromSeconds(10));
        _sidecar.Dispose();
    }
}
