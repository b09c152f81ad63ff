using System.Text.Json;

namespace Lepton.DevHost;

/// <summary>
/// What the Functions host takes from host.json and the dev host must take from the same file rather than keep copies
/// of: the HTTP route prefix, the durable task hub's name, its concurrency, extended sessions and the storage provider's
/// control-queue buffer. Missing values get the Functions host's own defaults.
/// </summary>
public sealed record HostJson(string RoutePrefix, string HubName, int MaxConcurrentActivities, int MaxConcurrentOrchestrations, bool ExtendedSessions = false,
    int ControlQueueBufferThreshold = HostJson.DefaultControlQueueBufferThreshold)
{
    public const int DefaultControlQueueBufferThreshold = 256;

    public static HostJson Load(string repoRoot) => Parse(File.ReadAllText(Path.Combine(repoRoot, "host.json")));

    public static HostJson Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        JsonElement extensions = document.RootElement.TryGetProperty("extensions", out JsonElement e) ? e : default;
        JsonElement http = Child(extensions, "http");
        JsonElement durable = Child(extensions, "durableTask");
        int processors = Environment.ProcessorCount;
        return new HostJson(
            String(http, "routePrefix") ?? "api",
            String(durable, "hubName") ?? "TestHubName",
            Int(durable, "maxConcurrentActivityFunctions") ?? 10 * processors,
            Int(durable, "maxConcurrentOrchestratorFunctions") ?? 10 * processors,
            Child(durable, "extendedSessionsEnabled").ValueKind == JsonValueKind.True,
            Int(Child(durable, "storageProvider"), "controlQueueBufferThreshold") ?? DefaultControlQueueBufferThreshold);
    }

    private static JsonElement Child(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out JsonElement child) ? child : default;

    private static string? String(JsonElement parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static int? Int(JsonElement parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out int number) ? number : null;
}
