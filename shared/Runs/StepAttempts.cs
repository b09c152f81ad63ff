using System.ComponentModel.DataAnnotations;
using Azure;
using Azure.Data.Tables;
using Lepton.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Runs;

/// <summary>Limits on runs ("Lepton:Runs").</summary>
public sealed class RunOptions
{
    public const string SectionName = "Lepton:Runs";

    /// <summary>
    /// How many times a heavy step may be started without ever ending (the host was killed or crashed while it ran)
    /// before it is given up instead of started again.
    /// </summary>
    [Range(1, 100)]
    public int MaxInterruptedStarts { get; set; } = 3;
}

/// <summary>
/// Poison runs: a step whose input kills the host (out of memory, a native crash) would otherwise be delivered again
/// after every restart and take the host down each time, because the durable engine cannot tell a crash from a
/// restart. Each heavy step records its start in a row keyed by run and step, and removes it when it ends in any way
/// (result, error, cancellation), so the count on that row is the number of starts that never ended. A step found with
/// <see cref="RunOptions.MaxInterruptedStarts"/> such starts is not run again: the caller turns that into the step's
/// own failure (a rejection report for a file, a failed fold for a candidate), and the row stays, so the orchestrator's
/// retries of the step give up at once too.
/// </summary>
public sealed partial class StepAttempts(StorageClients storage, IOptions<RunOptions> options, ILogger<StepAttempts> logger)
{
    internal const string TableName = "stepattempts";

    private TableClient Table => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Table.CreateIfNotExistsAsync(ct);

    /// <summary>Runs <paramref name="work"/> unless earlier starts of the same step never ended; then <paramref name="givenUp"/> answers instead.</summary>
    /// <param name="givenUp">The step's result when it is given up, from the number of interrupted starts.</param>
    public async Task<T> RunAsync<T>(string runId, string step, Func<Task<T>> work, Func<int, T> givenUp, CancellationToken ct)
    {
        // Step names are the platform's own (fixed names and catalog candidate ids): valid table keys as they are.
        NullableResponse<TableEntity> existing = await Table.GetEntityIfExistsAsync<TableEntity>(runId, step, ["Starts"], ct);
        int interrupted = existing.HasValue ? existing.Value!.GetInt32("Starts") ?? 0 : 0;
        if (interrupted >= options.Value.MaxInterruptedStarts)
        {
            LogGivenUp(runId, step, interrupted);
            return givenUp(interrupted);
        }

        await Table.UpsertEntityAsync(new TableEntity(runId, step) { ["Starts"] = interrupted + 1 }, TableUpdateMode.Replace, ct);
        try
        {
            return await work();
        }
        finally
        {
            await EndAsync(runId, step);
        }
    }

    /// <summary>The message a given-up step reports.</summary>
    public static string GivenUpMessage(string what, int starts) =>
        $"{what} stopped the platform {(starts == 1 ? "once" : $"{starts} times")} while it ran (out of memory or a crash) and was not started again, so that it cannot take the platform down once more.";

    private async Task EndAsync(string runId, string step)
    {
        try
        {
            // Not the step's token: a step cancelled by a shutdown ended (it did not crash), and must not count as interrupted.
            await Table.DeleteEntityAsync(runId, step, ETag.All, CancellationToken.None);
        }
        catch (Exception e) when (StorageFaults.IsOutage(e))
        {
            // The step's own outcome matters more; the row then counts one interrupted start too many.
            LogNotCleared(runId, step, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: step {Step} was started {Starts} times without ending; given up")]
    private partial void LogGivenUp(string runId, string step, int starts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: the start record of step {Step} could not be removed: {Reason}")]
    private partial void LogNotCleared(string runId, string step, string reason);
}
