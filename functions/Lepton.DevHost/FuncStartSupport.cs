using System.Text.Json;
using System.Text.Json.Nodes;
using Lepton.DevHost.Storage;

namespace Lepton.DevHost;

/// <summary>
/// For those with Azure Functions Core Tools: Azurite with the platform and tenant accounts, plus the blob-event
/// emulation posting to `func start` on --port. Writes functions/Lepton.Functions/local.settings.json from the sample
/// with these accounts, unless one exists.
/// </summary>
public static class FuncStartSupport
{
    public static async Task RunStorageOnlyAsync(DevHostOptions options, string repoRoot, string platformConnection, LocalAccounts accounts, AzuritePorts ports, CancellationToken ct)
    {
        Dictionary<string, string?> storage = DevHostApp.StorageSettings(platformConnection, accounts, ports);
        string settingsPath = Path.Combine(repoRoot, "functions", "Lepton.Functions", "local.settings.json");
        if (!File.Exists(settingsPath))
        {
            JsonNode settings = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repoRoot, "local.settings.sample.json"), ct))!;
            JsonNode values = settings["Values"]!;
            values["AzureWebJobsStorage"] = platformConnection;
            foreach ((string key, string? value) in storage)
            {
                values[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            await File.WriteAllTextAsync(settingsPath, settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), ct);
            Console.WriteLine($"Wrote {settingsPath} for these storage accounts.");
        }

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(options.Remaining);
        builder.Configuration.AddInMemoryCollection(storage);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Services.AddLeptonCore(builder.Configuration);
        builder.Services.AddHttpClient();
        // A Functions host that enforces keys needs the webhook's function key; give it as Lepton__DevHost__FunctionKey.
        string? functionKey = builder.Configuration["Lepton:DevHost:FunctionKey"];
        string query = functionKey is { Length: > 0 } ? "?code=" + Uri.EscapeDataString(functionKey) : "";
        builder.Services.AddSingleton(new WebhookTarget(new Uri($"http://127.0.0.1:{options.Port}/api/events/blob-created{query}")));
        builder.Services.AddHostedService<IngestWatcher>();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<PlatformBootstrap>().EnsureCreatedAsync(ct);
        await host.StartAsync(ct);
        Console.WriteLine($"Lepton storage ready: Azurite blob {ports.Blob}, queue {ports.Queue}, table {ports.Table}; blob events go to http://127.0.0.1:{options.Port}. Now run `func start` in functions/Lepton.Functions.");
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(5));
        }
    }
}
