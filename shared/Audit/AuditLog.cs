using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lepton.Storage;

namespace Lepton.Audit;

public sealed record AuditEntry(
    long Seq,
    DateTimeOffset Time,
    string Actor,
    string Action,
    string Resource,
    string? Purpose,
    string Outcome,
    string PrevHash,
    string Hash)
{
    /// <summary>
    /// The idempotency key of an entry that records a state change (run and action): a step retried after a crash between
    /// its change and its entry appends the entry then, and only once.
    /// </summary>
    public string? Key { get; init; }
}

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextSeq);

public sealed record AuditVerification(bool Valid, long Entries, long? FirstBrokenSeq, string? Problem)
{
    /// <summary>How many signed tree heads were checked against the log, and the size of the latest.</summary>
    public int SignedHeads { get; init; }

    public long? LatestSignedSize { get; init; }
}

/// <summary>
/// A tamper-evident log per tenant: JSON lines in an append blob of the platform account, each entry carrying the
/// SHA-256 of its fields and of the entry before it. Appends are conditional on the blob's current length, so two
/// writers (threads or instances) can never fork the chain or lose an entry: the loser re-reads the tail and retries.
/// </summary>
public sealed class AuditLog(StorageClients storage, TimeProvider time, Microsoft.Extensions.Options.IOptions<AuditOptions> options)
{
    public const string Container = "audit";
    public static readonly string GenesisHash = new('0', 64);
    private const int TailBytes = 16 * 1024;

    // Bounds per field, in characters, so an entry can never outgrow what an append reads back (even escaped, a bounded
    // entry stays well under TailBytes), whatever a request put into a resource name or an outcome text.
    public const int MaxActorLength = 200, MaxActionLength = 64, MaxResourceLength = 300, MaxPurposeLength = 64, MaxOutcomeLength = 1000;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(Container);

    public Task EnsureContainerAsync(CancellationToken ct = default) => Blobs.CreateIfNotExistsAsync(cancellationToken: ct);

    /// <summary>The log's first segment; later ones are <see cref="SegmentName"/> 1, 2, ...</summary>
    public static string BlobName(string tenant) => SegmentName(tenant, 0);

    /// <summary>
    /// An append blob holds at most 50,000 blocks (one per entry here), so a log rolls over to a new segment before that;
    /// the chain (sequence numbers and hashes) runs on across segments as if they were one file.
    /// </summary>
    public static string SegmentName(string tenant, int index) => index == 0 ? $"{tenant}.ndjson" : $"{tenant}.{index:D6}.ndjson";

    /// <param name="idempotencyKey">
    /// For entries that record a state change a retried step may repeat: when the log's recent entries already hold this key,
    /// that entry is returned and nothing is appended.
    /// </param>
    public async Task<AuditEntry> AppendAsync(string tenant, string actor, string action, string resource, string outcome, string? purpose = null,
        CancellationToken ct = default, string? idempotencyKey = null)
    {
        SemaphoreSlim gate = _locks.GetOrAdd(tenant, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            List<int> segments = await SegmentsAsync(tenant, ct);
            while (true)
            {
                AppendBlobClient blob = Blobs.GetAppendBlobClient(SegmentName(tenant, segments[^1]));
                await blob.CreateIfNotExistsAsync(cancellationToken: ct);
                BlobProperties properties = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
                if (properties.BlobCommittedBlockCount >= options.Value.MaxEntriesPerSegment)
                {
                    segments.Add(segments[^1] + 1);
                    continue;
                }

                long length = properties.ContentLength;
                if (idempotencyKey is not null && await FindRecentAsync(blob, length, idempotencyKey, ct) is { } recorded)
                {
                    return recorded;
                }

                AuditEntry? last = await ReadLastAsync(blob, length, ct);
                for (int previous = segments.Count - 2; last is null && previous >= 0; previous--)
                {
                    // A new segment starts empty: the chain continues from the end of the one before.
                    AppendBlobClient before = Blobs.GetAppendBlobClient(SegmentName(tenant, segments[previous]));
                    last = await ReadLastAsync(before, (await before.GetPropertiesAsync(cancellationToken: ct)).Value.ContentLength, ct);
                }

                var unsigned = new AuditEntry((last?.Seq ?? 0) + 1, time.GetUtcNow(), Bound(actor, MaxActorLength), Bound(action, MaxActionLength),
                    Bound(resource, MaxResourceLength), purpose is null ? null : Bound(purpose, MaxPurposeLength), Bound(outcome, MaxOutcomeLength),
                    last?.Hash ?? GenesisHash, "") { Key = idempotencyKey };
                AuditEntry entry = unsigned with { Hash = ComputeHash(unsigned) };
                byte[] line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, LeptonJson.Options) + "\n");
                try
                {
                    using var content = new MemoryStream(line);
                    await blob.AppendBlockAsync(content, new AppendBlobAppendBlockOptions
                    {
                        Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = length },
                    }, ct);
                    return entry;
                }
                catch (RequestFailedException e) when (e.Status == 412)
                {
                    // Another instance appended first; chain onto its entry (and find any segment it started).
                    segments = await SegmentsAsync(tenant, ct);
                }
                catch (RequestFailedException e) when (e.ErrorCode == "BlockCountExceedsLimit")
                {
                    segments.Add(segments[^1] + 1);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The indexes of the tenant's segments, in order; [0] for a log not yet started.</summary>
    private async Task<List<int>> SegmentsAsync(string tenant, CancellationToken ct)
    {
        var indexes = new List<int> { 0 };
        string prefix = tenant + ".";
        await foreach (BlobItem blob in Blobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, ct))
        {
            string middle = blob.Name[prefix.Length..];
            if (middle.EndsWith(".ndjson", StringComparison.Ordinal) && int.TryParse(middle[..^".ndjson".Length], System.Globalization.NumberStyles.None, null, out int index)
                && index > 0)
            {
                indexes.Add(index);
            }
        }

        indexes.Sort();
        return indexes;
    }

    public async Task<AuditPage> ReadAsync(string tenant, long fromSeq, int max, CancellationToken ct = default)
    {
        var entries = new List<AuditEntry>();
        long? next = null;
        await foreach ((AuditEntry? entry, _) in LinesAsync(tenant, ct))
        {
            if (entry is null || entry.Seq < fromSeq)
            {
                continue;
            }

            if (entries.Count == max)
            {
                next = entry.Seq;
                break;
            }

            entries.Add(entry);
        }

        return new AuditPage(entries, next);
    }

    /// <summary>Recomputes the chain; names the first entry that was altered, removed or inserted.</summary>
    public async Task<AuditVerification> VerifyAsync(string tenant, CancellationToken ct = default)
    {
        long expectedSeq = 1;
        string previous = GenesisHash;
        await foreach ((AuditEntry? entry, int line) in LinesAsync(tenant, ct))
        {
            if (entry is null)
            {
                return new AuditVerification(false, expectedSeq - 1, expectedSeq, $"line {line} is not a valid entry");
            }

            if (entry.Seq != expectedSeq)
            {
                return new AuditVerification(false, expectedSeq - 1, expectedSeq,
                    entry.Seq > expectedSeq ? $"entry {expectedSeq} is missing (found {entry.Seq} next)" : $"entry {entry.Seq} appears out of order");
            }

            if (entry.PrevHash != previous)
            {
                return new AuditVerification(false, expectedSeq - 1, entry.Seq, $"entry {entry.Seq} does not link to the entry before it");
            }

            if (entry.Hash != ComputeHash(entry))
            {
                return new AuditVerification(false, expectedSeq - 1, entry.Seq, $"entry {entry.Seq} was altered: its hash does not match its content");
            }

            previous = entry.Hash;
            expectedSeq++;
        }

        return new AuditVerification(true, expectedSeq - 1, null, null);
    }

    /// <summary>The log's lines as stored, across its segments (the Merkle tree's leaves are these bytes), in order.</summary>
    public async Task<IReadOnlyList<string>> ReadLinesAsync(string tenant, CancellationToken ct = default)
    {
        var lines = new List<string>();
        foreach (int segment in await SegmentsAsync(tenant, ct))
        {
            try
            {
                string text = (await Blobs.GetBlobClient(SegmentName(tenant, segment)).DownloadContentAsync(ct)).Value.Content.ToString();
                lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
            }
        }

        return lines;
    }

    public static string ComputeHash(AuditEntry e)
    {
        string canonical = string.Join('\u001F', e.Seq, e.Time.UtcDateTime.ToString("O"), e.Actor, e.Action, e.Resource, e.Purpose ?? "", e.Outcome, e.PrevHash)
            // Entries without a key hash as they always did, so logs written before keys existed still verify.
            + (e.Key is null ? "" : "\u001F" + e.Key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private async IAsyncEnumerable<(AuditEntry? Entry, int Line)> LinesAsync(string tenant, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        int number = 0;
        foreach (int segment in await SegmentsAsync(tenant, ct))
        {
            BlobClient blob = Blobs.GetBlobClient(SegmentName(tenant, segment));
            // One streamed GET: the segment as it was when the read began, whole entries only (each append is whole lines).
            // The SDK's read stream fetched ranges conditional on the ETag it saw first, so an entry appended meanwhile —
            // background work auditing while a partner reads — failed the read with a 412 (a 500 to the partner).
            BlobDownloadStreamingResult download;
            try
            {
                download = (await blob.DownloadStreamingAsync(cancellationToken: ct)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                continue;
            }

            using (download)
            {
                using var reader = new StreamReader(download.Content, Encoding.UTF8);
                while (await reader.ReadLineAsync(ct) is { } text)
                {
                    number++;
                    if (text.Length > 0)
                    {
                        yield return (Parse(text), number);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The last readable entry. The window grows until it holds a whole line, so an entry longer than the usual tail
    /// (written before entries were bounded) is still read. An unreadable last line does not stop the log for good: the
    /// next entry links to the last readable one, and verification keeps naming the damaged line.
    /// </summary>
    private static async Task<AuditEntry?> ReadLastAsync(AppendBlobClient blob, long length, CancellationToken ct)
    {
        for (long window = TailBytes; ; window *= 4)
        {
            if (length == 0)
            {
                return null;
            }

            long start = Math.Max(0, length - window);
            BlobDownloadResult tail = (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(start, length - start) }, ct)).Value;
            string[] lines = tail.Content.ToString().TrimEnd('\n').Split('\n');
            // Unless the window starts at the beginning, its first line may be cut off; only the lines after it are whole.
            int whole = start == 0 ? 0 : 1;
            for (int i = lines.Length - 1; i >= whole; i--)
            {
                if (Parse(lines[i]) is { } entry)
                {
                    return entry;
                }
            }

            if (start == 0)
            {
                return null;
            }
        }
    }

    /// <summary>An entry with the key among the segment's most recent entries (a retry comes soon after its first try).</summary>
    private static async Task<AuditEntry?> FindRecentAsync(AppendBlobClient blob, long length, string key, CancellationToken ct)
    {
        if (length == 0)
        {
            return null;
        }

        long start = Math.Max(0, length - RecentBytes);
        BlobDownloadResult tail = (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(start, length - start) }, ct)).Value;
        return tail.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(start == 0 ? 0 : 1).Select(Parse)
            .LastOrDefault(e => e?.Key == key);
    }

    private const int RecentBytes = 256 * 1024;

    private static string Bound(string value, int max) =>
        value.Length <= max ? value : string.Concat(value.AsSpan(0, max - 40), $"… ({value.Length - (max - 40):N0} more characters)");

    private static AuditEntry? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<AuditEntry>(line, LeptonJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
