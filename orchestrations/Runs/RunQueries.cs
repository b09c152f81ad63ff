using System.Text.Json;
using Lepton.Runs;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Runs;

public sealed record RunView(
    string RunId,
    string Kind,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    RunProgress? Progress,
    JsonElement? Result,
    string? Error,
    JsonElement? Details = null,
    string? Collaboration = null);

/// <summary>
/// A durable run as a caller sees it, plus whom it belongs to (for the access policy): the tenant that started it (never
/// shown), and the collaboration whose members may all follow it, if any.
/// </summary>
public sealed record RunLookup(string TenantId, string? Collaboration, RunView View);

/// <summary>The two fields every workflow's input carries that say whose run it is.</summary>
internal sealed record RunOwner(string? TenantId, string? Collaboration);

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
        RunOwner? owner = meta is null ? null : Read<RunOwner>(meta.ReadInputAs<RunOwner>);
        if (meta is null || owner?.TenantId is not { } tenant)
        {
            return null;
        }

        string kind = meta.Name.Replace("Orchestrator", "", StringComparison.Ordinal).ToLowerInvariant();
        // The workflow's whole progress record (rounds and their metrics, who reported, who was skipped) next to the common fields.
        var view = new RunView(runId, kind, meta.RuntimeStatus.ToString(), meta.CreatedAt, meta.LastUpdatedAt,
            Read(meta.ReadCustomStatusAs<RunProgress>),
            meta.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? ReadJson(meta.SerializedOutput, meta.ReadOutputAs<JsonElement>) : null,
            meta.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? OwnMessage(meta.FailureDetails) ?? meta.SerializedOutput : null,
            ReadJson(meta.SerializedCustomStatus, meta.ReadCustomStatusAs<JsonElement>),
            // Only members of a collaboration may follow its runs, so naming it tells the caller nothing new.
            owner.Collaboration);
        return new RunLookup(tenant, owner.Collaboration, view);
    }

    /// <summary>
    /// The failure's own message: under the Functions host an activity's failure reaches the orchestration wrapped in a
    /// TaskFailedException ("Task 'X' (#n) failed with an unhandled exception: ..."), under the dev host it may not be —
    /// the innermost failure reads the same on both.
    /// </summary>
    private static string? OwnMessage(TaskFailureDetails? failure)
    {
        while (failure?.InnerFailure is { } inner)
        {
            failure = inner;
        }

        return failure?.ErrorMessage;
    }

    /// <summary>
    /// A payload the provider moved to its large-message store comes back as a reference, not JSON: its owner cannot be
    /// read from it, so the run answers 404 like any run the caller does not own — never a 500.
    /// </summary>
    private static T? Read<T>(Func<T?> read) where T : class
    {
        try
        {
            return read();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonElement? ReadJson(string? serialized, Func<JsonElement> read)
    {
        if (string.IsNullOrEmpty(serialized))
        {
            return null;
        }

        try
        {
            return read();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(serialized);
        }
    }
}
