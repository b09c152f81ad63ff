using System.Text.Json;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Runs;

public sealed record RunProgress(string? Stage, int Done, int Total);

public sealed record RunView(
    string RunId,
    string Kind,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    RunProgress? Progress,
    JsonElement? Result,
    string? Error,
    JsonElement? Details = null);

/// <summary>
/// A durable run as a caller sees it, plus whom it belongs to (for the access policy, never shown): the tenant that
/// started it, and the collaboration whose members may all follow it, if any.
/// </summary>
public sealed record RunLookup(string TenantId, string? Collaboration, RunView View);

/// <summary>Reads runs from the durable store. Every run's input names its tenant, which is how ownership is checked.</summary>
public sealed class RunQueries
{
    public async Task<RunLookup?> FindAsync(DurableTaskClient client, string runId, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(runId) || runId.Length > 100)
        {
            return null;
        }

        OrchestrationMetadata? meta = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct);
        string? tenant = meta is null ? null : ReadString(meta.SerializedInput, "TenantId");
        if (meta is null || tenant is null)
        {
            return null;
        }

        RunProgress? progress = null;
        if (meta.SerializedCustomStatus is { Length: > 0 } status)
        {
            using JsonDocument doc = JsonDocument.Parse(status);
            JsonElement s = doc.RootElement;
            if (s.ValueKind == JsonValueKind.Object)
            {
                progress = new RunProgress(
                    s.TryGetProperty("Stage", out JsonElement stage) ? stage.GetString() : null,
                    s.TryGetProperty("Done", out JsonElement done) ? done.GetInt32() : 0,
                    s.TryGetProperty("Total", out JsonElement total) ? total.GetInt32() : 0);
            }
        }

        JsonElement? result = meta.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? ParseJson(meta.SerializedOutput) : null;
        string kind = meta.Name.Replace("Orchestrator", "", StringComparison.Ordinal).ToLowerInvariant();
        // The workflow's whole progress record (rounds and their metrics, who reported, who was skipped) next to the common fields.
        var view = new RunView(runId, kind, meta.RuntimeStatus.ToString(), meta.CreatedAt, meta.LastUpdatedAt, progress, result,
            meta.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? meta.FailureDetails?.ErrorMessage ?? meta.SerializedOutput : null,
            ParseJson(meta.SerializedCustomStatus));
        return new RunLookup(tenant, ReadString(meta.SerializedInput, "Collaboration"), view);
    }

    private static JsonElement? ParseJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }

    private static string? ReadString(string? json, string property)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out JsonElement value)
                && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            // An input the provider moved to its large-message store comes back as a reference, not JSON: its owner cannot be
            // read from it, so the run answers 404 like any run the caller does not own — never a 500.
            return null;
        }
    }
}
