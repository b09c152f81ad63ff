using Azure;
using Azure.Data.Tables;
using Lepton.Storage;

namespace Lepton.Datasets;

public sealed record DatasetVersionRecord(
    string Dataset,
    int Version,
    string RunId,
    DateTimeOffset CreatedAt,
    long Rows,
    int Columns,
    string SourceBlob,
    string SourceETag,
    string SourceSha256,
    string DataBlob,
    string? Label,
    string? Task);

public sealed record IngestRunRecord(
    string Dataset,
    string RunId,
    string FileName,
    string ETag,
    DateTimeOffset ReceivedAt,
    string Status,
    int? Version,
    string? Reason);

public sealed record DatasetSummary(string Dataset, int LatestVersion, DateTimeOffset UpdatedAt);

public static class IngestRunStatus
{
    public const string Accepted = "accepted";
    public const string Published = "published";
    public const string Rejected = "rejected";
}

/// <summary>
/// The registry of curated dataset versions and ingest runs, one table partition per tenant in the platform account.
/// A version becomes visible only when its row is committed, after all its blobs are written, so readers never see a partial version.
/// </summary>
public sealed class DatasetCatalog(StorageClients storage, TimeProvider time)
{
    internal const string TableName = "catalog";

    private TableClient Table => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Table.CreateIfNotExistsAsync(ct);

    /// <summary>Notes that a file arrived; a second delivery of the same event changes nothing.</summary>
    /// <returns>True for the first record of this run: the insert decides which of concurrent deliveries of one event was first.</returns>
    public async Task<bool> RecordRunAsync(string tenant, string dataset, string runId, string fileName, string etag, CancellationToken ct = default)
    {
        try
        {
            await Table.AddEntityAsync(new TableEntity(tenant, RunKey(dataset, runId))
            {
                ["Dataset"] = dataset,
                ["RunId"] = runId,
                ["FileName"] = fileName,
                ["ETag"] = etag,
                ["ReceivedAt"] = time.GetUtcNow(),
                ["Status"] = IngestRunStatus.Accepted,
            }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    /// <summary>
    /// Reserves the next version number for a run. Idempotent per run: a retried activity gets the number it reserved before,
    /// and two runs never share one (the head row's ETag arbitrates).
    /// </summary>
    public async Task<int> AllocateVersionAsync(string tenant, string dataset, string runId, CancellationToken ct = default)
    {
        while (true)
        {
            TableEntity run = await GetOrCreateRunAsync(tenant, dataset, runId, ct);
            if (run.GetInt32("Version") is { } reserved)
            {
                return reserved;
            }

            NullableResponse<TableEntity> head = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, HeadKey(dataset), cancellationToken: ct);
            int next = (head.HasValue ? head.Value!.GetInt32("Allocated") ?? 0 : 0) + 1;
            var newHead = new TableEntity(tenant, HeadKey(dataset))
            {
                ["Dataset"] = dataset,
                ["Allocated"] = next,
                ["Latest"] = head.HasValue ? head.Value!.GetInt32("Latest") ?? 0 : 0,
                ["UpdatedAt"] = head.HasValue ? head.Value!.GetDateTimeOffset("UpdatedAt") : time.GetUtcNow(),
            };
            run["Version"] = next;
            var batch = new List<TableTransactionAction>
            {
                head.HasValue
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, newHead, head.Value!.ETag)
                    : new TableTransactionAction(TableTransactionActionType.Add, newHead),
                new(TableTransactionActionType.UpdateReplace, run, run.ETag),
            };
            try
            {
                await Table.SubmitTransactionAsync(batch, ct);
                return next;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another run moved the head (or this run's row) meanwhile: read again and retry.
            }
        }
    }

    /// <summary>Makes a version visible and marks its run published, atomically. False when an earlier attempt already did.</summary>
    public async Task<bool> CommitVersionAsync(string tenant, DatasetVersionRecord v, CancellationToken ct = default)
    {
        while (true)
        {
            TableEntity run = await GetOrCreateRunAsync(tenant, v.Dataset, v.RunId, ct);
            if (run.GetString("Status") == IngestRunStatus.Published)
            {
                return false;
            }

            Response<TableEntity> head = await Table.GetEntityAsync<TableEntity>(tenant, HeadKey(v.Dataset), cancellationToken: ct);
            TableEntity h = head.Value;
            h["Latest"] = Math.Max(h.GetInt32("Latest") ?? 0, v.Version);
            h["UpdatedAt"] = time.GetUtcNow();
            run["Status"] = IngestRunStatus.Published;
            var versionRow = new TableEntity(tenant, VersionKey(v.Dataset, v.Version))
            {
                ["Dataset"] = v.Dataset,
                ["Version"] = v.Version,
                ["RunId"] = v.RunId,
                ["CreatedAt"] = v.CreatedAt,
                ["Rows"] = v.Rows,
                ["Columns"] = v.Columns,
                ["SourceBlob"] = v.SourceBlob,
                ["SourceETag"] = v.SourceETag,
                ["SourceSha256"] = v.SourceSha256,
                ["DataBlob"] = v.DataBlob,
                ["Label"] = v.Label,
                ["Task"] = v.Task,
            };
            try
            {
                await Table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpsertReplace, versionRow),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, h, h.ETag),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, run, run.ETag),
                ], ct);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
            }
        }
    }

    public async Task RecordRejectionAsync(string tenant, string dataset, string runId, string reason, CancellationToken ct = default)
    {
        TableEntity run = await GetOrCreateRunAsync(tenant, dataset, runId, ct);
        run["Status"] = IngestRunStatus.Rejected;
        run["Reason"] = reason.Length > 2000 ? reason[..2000] : reason;
        await Table.UpsertEntityAsync(run, TableUpdateMode.Replace, ct);
    }

    public async Task<IReadOnlyList<DatasetSummary>> ListDatasetsAsync(string tenant, CancellationToken ct = default)
    {
        var result = new List<DatasetSummary>();
        await foreach (TableEntity e in Range(tenant, "h|", ct))
        {
            result.Add(new DatasetSummary(e.GetString("Dataset") ?? "", e.GetInt32("Latest") ?? 0, e.GetDateTimeOffset("UpdatedAt") ?? default));
        }

        // Datasets whose only files were rejected have runs but no head row.
        await foreach (TableEntity e in Range(tenant, "r|", ct))
        {
            string dataset = e.GetString("Dataset") ?? "";
            if (!result.Any(d => d.Dataset == dataset))
            {
                result.Add(new DatasetSummary(dataset, 0, e.GetDateTimeOffset("ReceivedAt") ?? default));
            }
        }

        return result.OrderBy(d => d.Dataset, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<DatasetVersionRecord>> ListVersionsAsync(string tenant, string dataset, CancellationToken ct = default)
    {
        var versions = new List<DatasetVersionRecord>();
        await foreach (TableEntity e in Range(tenant, $"v|{dataset}|", ct))
        {
            versions.Add(new DatasetVersionRecord(dataset, e.GetInt32("Version") ?? 0, e.GetString("RunId") ?? "",
                e.GetDateTimeOffset("CreatedAt") ?? default, e.GetInt64("Rows") ?? 0, e.GetInt32("Columns") ?? 0,
                e.GetString("SourceBlob") ?? "", e.GetString("SourceETag") ?? "", e.GetString("SourceSha256") ?? "",
                e.GetString("DataBlob") ?? "", e.GetString("Label"), e.GetString("Task")));
        }

        return versions.OrderBy(v => v.Version).ToList();
    }

    public async Task<IReadOnlyList<IngestRunRecord>> ListRunsAsync(string tenant, string dataset, CancellationToken ct = default)
    {
        var runs = new List<IngestRunRecord>();
        await foreach (TableEntity e in Range(tenant, $"r|{dataset}|", ct))
        {
            runs.Add(ToRun(e));
        }

        return runs.OrderBy(r => r.ReceivedAt).ToList();
    }

    public async Task<IngestRunRecord?> FindRunAsync(string tenant, string dataset, string runId, CancellationToken ct = default)
    {
        NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, RunKey(dataset, runId), cancellationToken: ct);
        return row.HasValue ? ToRun(row.Value!) : null;
    }

    private async Task<TableEntity> GetOrCreateRunAsync(string tenant, string dataset, string runId, CancellationToken ct)
    {
        NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, RunKey(dataset, runId), cancellationToken: ct);
        if (row.HasValue)
        {
            return row.Value!;
        }

        await RecordRunAsync(tenant, dataset, runId, "", "", ct);
        return (await Table.GetEntityAsync<TableEntity>(tenant, RunKey(dataset, runId), cancellationToken: ct)).Value;
    }

    private AsyncPageable<TableEntity> Range(string tenant, string prefix, CancellationToken ct)
    {
        string end = prefix + "~";
        return Table.QueryAsync<TableEntity>(
            e => e.PartitionKey == tenant && e.RowKey.CompareTo(prefix) >= 0 && e.RowKey.CompareTo(end) < 0, cancellationToken: ct);
    }

    private static IngestRunRecord ToRun(TableEntity e) => new(
        e.GetString("Dataset") ?? "", e.GetString("RunId") ?? "", e.GetString("FileName") ?? "", e.GetString("ETag") ?? "",
        e.GetDateTimeOffset("ReceivedAt") ?? default, e.GetString("Status") ?? "", e.GetInt32("Version"), e.GetString("Reason"));

    private static string HeadKey(string dataset) => $"h|{dataset}";

    private static string VersionKey(string dataset, int version) => $"v|{dataset}|{version:D6}";

    private static string RunKey(string dataset, string runId) => $"r|{dataset}|{runId}";
}
