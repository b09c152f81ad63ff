using Azure;
using Azure.Data.Tables;
using Lepton.Configuration;
using Lepton.Storage;
using Microsoft.Extensions.Options;

namespace Lepton.Ingestion;

/// <summary>An ingest run asking for (or giving back) one of its tenant's ingest slots.</summary>
public sealed record IngestSlotRequest(string TenantId, string RunId);

/// <summary>Granted, or: wait this long and ask again (<see cref="Position"/> runs of the tenant are ahead).</summary>
public sealed record IngestSlotDecision(bool Granted, int WaitSeconds = 0, int Position = 0);

/// <summary>
/// Fair shares of ingest capacity: each tenant runs at most <see cref="IngestionOptions.MaxConcurrentRunsPerTenant"/>
/// ingests at once, so a burst of one tenant's uploads queues behind itself instead of filling the durable work queue
/// ahead of every other tenant's files. Slots are rows of one table partition per tenant, claimed by conditional insert
/// or replace; a slot whose holder is no longer running (it finished, failed or was terminated without giving it back)
/// is taken over, so a crash never leaks capacity. Waiting runs ask again after a durable timer that grows with their
/// place in the tenant's queue, and only the first waiters may take the free slots, so the tenant's files go in order.
/// </summary>
public sealed class IngestSlots(StorageClients storage, IOptions<IngestionOptions> options, TimeProvider time)
{
    internal const string TableName = "ingestslots";
    private const string SlotPrefix = "slot-", WaitPrefix = "wait-";
    private const int MinWaitSeconds = 2, MaxWaitSeconds = 30;

    private TableClient Table => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Table.CreateIfNotExistsAsync(ct);

    /// <param name="isRunning">Whether a run still runs (the durable engine knows): a slot held by one that does not is free.</param>
    public async Task<IngestSlotDecision> ReserveAsync(IngestSlotRequest request, Func<string, CancellationToken, Task<bool>> isRunning, CancellationToken ct)
    {
        int slots = options.Value.MaxConcurrentRunsPerTenant;
        List<TableEntity> rows = await RowsAsync(request.TenantId, ct);
        if (rows.Any(r => IsSlot(r) && r.GetString("RunId") == request.RunId))
        {
            await ForgetWaitAsync(request, ct);
            return new IngestSlotDecision(true);
        }

        var free = new List<(string Row, ETag? Held)>();
        for (int i = 0; i < slots; i++)
        {
            TableEntity? slot = rows.Find(r => r.RowKey == SlotPrefix + i);
            if (slot is null)
            {
                free.Add((SlotPrefix + i, null));
            }
            else if (slot.GetString("RunId") is not { } holder || !await isRunning(holder, ct))
            {
                free.Add((slot.RowKey, slot.ETag));
            }
        }

        // A run not yet waiting queues behind every waiter; among waiters, the earlier goes first.
        TableEntity? waiting = rows.Find(r => r.RowKey == WaitPrefix + request.RunId);
        (DateTimeOffset, string) place = (waiting?.GetDateTimeOffset("Since") ?? DateTimeOffset.MaxValue, WaitPrefix + request.RunId);
        int position = rows.Count(r => r.RowKey.StartsWith(WaitPrefix, StringComparison.Ordinal) && r.RowKey != place.Item2
            && (r.GetDateTimeOffset("Since") ?? DateTimeOffset.MinValue, r.RowKey).CompareTo(place) < 0);
        if (position < free.Count)
        {
            foreach ((string row, ETag? held) in free)
            {
                if (await TryClaimAsync(request, row, held, ct))
                {
                    if (waiting is not null)
                    {
                        await ForgetWaitAsync(request, ct);
                    }

                    return new IngestSlotDecision(true);
                }
            }
        }

        if (waiting is null)
        {
            await WaitAsync(request, ct);
        }

        int wait = Math.Clamp(MinWaitSeconds * (1 + position / Math.Max(1, slots)), MinWaitSeconds, MaxWaitSeconds);
        return new IngestSlotDecision(false, wait, position);
    }

    public async Task ReleaseAsync(IngestSlotRequest request, CancellationToken ct)
    {
        foreach (TableEntity row in await RowsAsync(request.TenantId, ct))
        {
            if ((IsSlot(row) && row.GetString("RunId") == request.RunId) || row.RowKey == WaitPrefix + request.RunId)
            {
                try
                {
                    await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, ct);
                }
                catch (RequestFailedException e) when (e.Status is 404 or 412)
                {
                    // Already given back, or taken over: it is not this run's any more.
                }
            }
        }
    }

    private static bool IsSlot(TableEntity row) => row.RowKey.StartsWith(SlotPrefix, StringComparison.Ordinal);

    private async Task<List<TableEntity>> RowsAsync(string tenant, CancellationToken ct) =>
        await Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {tenant}"), cancellationToken: ct).ToListAsync(ct);

    private async Task<bool> TryClaimAsync(IngestSlotRequest request, string row, ETag? held, CancellationToken ct)
    {
        var claim = new TableEntity(request.TenantId, row) { ["RunId"] = request.RunId, ["Since"] = time.GetUtcNow() };
        try
        {
            await (held is { } etag ? Table.UpdateEntityAsync(claim, etag, TableUpdateMode.Replace, ct) : Table.AddEntityAsync(claim, ct));
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task WaitAsync(IngestSlotRequest request, CancellationToken ct)
    {
        try
        {
            await Table.AddEntityAsync(new TableEntity(request.TenantId, WaitPrefix + request.RunId) { ["Since"] = time.GetUtcNow() }, ct);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
        }
    }

    private async Task ForgetWaitAsync(IngestSlotRequest request, CancellationToken ct)
    {
        try
        {
            await Table.DeleteEntityAsync(request.TenantId, WaitPrefix + request.RunId, ETag.All, ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }
}
