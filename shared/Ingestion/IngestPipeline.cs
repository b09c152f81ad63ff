using System.Diagnostics;
using Lepton.Telemetry;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lepton.Audit;
using Lepton.Configuration;
using Lepton.Datasets;
using Lepton.Storage;
using Microsoft.Extensions.Options;

namespace Lepton.Ingestion;

/// <summary>
/// The storage side of ingestion, one method per activity. Every method acts for the tenant named in the request,
/// through that tenant's own account, and is safe to run again (activities are delivered at least once).
/// </summary>
public sealed class IngestPipeline(
    TenantStorageFactory tenants,
    DatasetCatalog catalog,
    AuditLog audit,
    IOptions<IngestionOptions> options,
    Runs.StepAttempts attempts,
    TimeProvider time)
{

    /// <summary>Pass one; stores the whole analysis as a blob and returns what the orchestrator decides on.</summary>
    public async Task<AnalysisSummary> AnalyzeAsync(IngestRequest request, CancellationToken ct = default)
    {
        using Activity? activity = LeptonTelemetry.StartStep("ingest.analyze", request.TraceParent, request.TenantId, request.RunId);
        return await attempts.RunAsync(request.RunId, "analyze", async () =>
        {
            TenantStorage storage = await tenants.ForTenantAsync(request.TenantId, ct);
            SourceAnalysis analysis = await ReadSourceAsync(storage, request, ct);
            string blob = BlobLayout.IngestAnalysis(request.RunId);
            await WriteJsonAsync(storage.Curated, blob, analysis, ct);
            return new AnalysisSummary(blob, analysis.Sha256, analysis.DataRows, analysis.Problems, analysis.Spec);
        }, starts => new AnalysisSummary("", "", 0, [StoppedThePlatform(request, "Analyzing", starts)], null), ct);
    }

    /// <summary>The rejection of a file whose processing kept killing the host (see <see cref="Runs.StepAttempts"/>).</summary>
    private static IngestProblem StoppedThePlatform(IngestRequest request, string step, int starts) =>
        new("stopped-the-platform", Runs.StepAttempts.GivenUpMessage($"{step} '{request.FileName ?? request.BlobName}'", starts), []);

    private async Task<SourceAnalysis> ReadSourceAsync(TenantStorage storage, IngestRequest request, CancellationToken ct)
    {
        if (request.Dataset is null || request.FileName is null)
        {
            return new SourceAnalysis("", 0, 0, 0, ",", null, [], [],
            [
                new IngestProblem("invalid-path",
                    $"'{request.BlobName}' is not in a dataset folder: upload to ingest/<dataset>/<file>.csv, where <dataset> is {Names.DatasetRule}.", []),
            ]);
        }

        BlobClient source = storage.Ingest.GetBlobClient(request.BlobName);
        (DatasetSpec? spec, IngestProblem? specProblem) = await ReadSpecAsync(storage, request.Dataset, ct);
        try
        {
            BlobProperties props = (await source.GetPropertiesAsync(IfMatch(request), ct)).Value;
            if (props.BlobType != BlobType.Block)
            {
                // The upload URL lets a PUT choose the blob type: an append or page blob is not a file a partner uploaded.
                return new SourceAnalysis("", props.ContentLength, 0, 0, ",", null, [], [],
                [
                    new IngestProblem("not-a-block-blob",
                        $"'{request.FileName}' was stored as a {props.BlobType.ToString().ToLowerInvariant()} blob; upload data files as block blobs (header x-ms-blob-type: BlockBlob).", []),
                ]);
            }

            var analyzer = new SourceAnalyzer(options.Value);
            if (props.ContentLength > options.Value.MaxFileBytes || props.ContentLength == 0)
            {
                return analyzer.Analyze(Stream.Null, props.ContentLength, request.FileName, spec, specProblem);
            }

            using BlobDownloadStreamingResult download = await source.DownloadVersionAsync(request.ETag, ct);
            return await Task.Run(() => analyzer.Analyze(download.Content, props.ContentLength, request.FileName, spec, specProblem), ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return new SourceAnalysis("", 0, 0, 0, ",", null, [], [], [SourceGone(request, e)]);
        }
    }

    /// <summary>
    /// The upload this run was started for is no longer there to read: deleted, or overwritten by a newer upload (which
    /// an event starts its own run for). The partner's doing, not a failure of the platform, whichever pass found it.
    /// </summary>
    private static IngestProblem SourceGone(IngestRequest request, RequestFailedException e) => e.Status == 404
        ? new IngestProblem("source-missing", $"'{request.BlobName}' was deleted before it could be read.", [])
        : new IngestProblem("superseded", $"'{request.BlobName}' was overwritten before it could be read; the newer upload is ingested on its own.", []);

    /// <summary>
    /// Reserves the version number, writes the cleaned rows, their profile and the quality report to it. Invisible until
    /// <see cref="PublishAsync"/> commits.
    /// </summary>
    public async Task<CleanedVersion> CleanAsync(CleanRequest request, CancellationToken ct = default)
    {
        IngestRequest ingest = request.Ingest;
        using Activity? activity = LeptonTelemetry.StartStep("ingest.clean", ingest.TraceParent, ingest.TenantId, ingest.RunId);
        string dataset = ingest.Dataset!;
        int version = await catalog.AllocateVersionAsync(ingest.TenantId, dataset, ingest.RunId, ct);
        return await attempts.RunAsync(ingest.RunId, "clean", () => CleanVersionAsync(request, version, ct),
            starts => new CleanedVersion(version, 0, 0, [StoppedThePlatform(ingest, "Cleaning", starts)]), ct);
    }

    private async Task<CleanedVersion> CleanVersionAsync(CleanRequest request, int version, CancellationToken ct)
    {
        IngestRequest ingest = request.Ingest;
        string dataset = ingest.Dataset!;
        TenantStorage storage = await tenants.ForTenantAsync(ingest.TenantId, ct);
        SourceAnalysis analysis = await ReadAnalysisAsync(storage, request.AnalysisBlob, ct);
        BlockBlobClient target = storage.Curated.GetBlockBlobClient(BlobLayout.CuratedData(dataset, version));
        BlobClient source = storage.Ingest.GetBlobClient(ingest.BlobName);
        CleaningResult result;
        try
        {
            using BlobDownloadStreamingResult download = await source.DownloadVersionAsync(ingest.ETag, ct);
            Stream input = download.Content;
            await using Stream output = await target.OpenWriteAsync(overwrite: true, new BlockBlobOpenWriteOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" },
                BufferSize = 4 << 20,
            }, ct);
            result = await Task.Run(() => new DatasetCleaner().Clean(input, output, analysis), ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Replaced or deleted since pass one read it (a partner re-uploading a corrected file): rejected as such, and
            // the rejection removes whatever of this version was written. The same statuses from writing the curated
            // output would be the platform's own fault, so they fail the step as before.
            if (await source.VersionGoneAsync(ingest.ETag, ct) is null)
            {
                throw;
            }

            return new CleanedVersion(version, 0, 0, [SourceGone(ingest, e)]);
        }

        if (!result.IsRejected)
        {
            var quality = new
            {
                runId = ingest.RunId,
                rowsIn = result.RowsIn,
                rowsOut = result.RowsOut,
                changes = result.Counts,
                rules = analysis.Rules,
                rawProfile = analysis.RawProfile,
            };
            await WriteJsonAsync(storage.Curated, BlobLayout.CuratedProfile(dataset, version), result.Profile, ct);
            await WriteJsonAsync(storage.Curated, BlobLayout.CuratedQuality(dataset, version), quality, ct);
        }

        return new CleanedVersion(version, result.RowsIn, result.RowsOut, result.Problems);
    }

    /// <summary>Writes schema and lineage next to the data, then commits the version in the catalog.</summary>
    public async Task<DatasetVersionRecord> PublishAsync(PublishRequest request, CancellationToken ct = default)
    {
        (IngestRequest ingest, CleanedVersion cleaned) = (request.Ingest, request.Cleaned);
        using Activity? activity = LeptonTelemetry.StartStep("ingest.publish", ingest.TraceParent, ingest.TenantId, ingest.RunId);
        string dataset = ingest.Dataset!;
        int version = cleaned.Version;
        TenantStorage storage = await tenants.ForTenantAsync(ingest.TenantId, ct);
        SourceAnalysis analysis = await ReadAnalysisAsync(storage, request.AnalysisBlob, ct);
        DateTimeOffset now = time.GetUtcNow();
        var lineage = new
        {
            dataset,
            version,
            runId = ingest.RunId,
            createdAt = now,
            source = new
            {
                account = storage.Tenant.StorageAccount,
                container = BlobLayout.IngestContainer,
                blob = ingest.BlobName,
                etag = ingest.ETag,
                sha256 = analysis.Sha256,
                bytes = analysis.Bytes,
            },
            rowsIn = cleaned.RowsIn,
            rowsOut = cleaned.RowsOut,
            rulesApplied = DescribeRules(analysis, options.Value),
            data = BlobLayout.CuratedData(dataset, version),
        };
        await WriteJsonAsync(storage.Curated, BlobLayout.CuratedSchema(dataset, version), analysis.Schema, ct);
        // Lineage is written last: a version folder without it was never published.
        await WriteJsonAsync(storage.Curated, BlobLayout.CuratedLineage(dataset, version), lineage, ct);
        var record = new DatasetVersionRecord(dataset, version, ingest.RunId, now, cleaned.RowsOut, analysis.Rules.Count,
            ingest.BlobName, ingest.ETag, analysis.Sha256, BlobLayout.CuratedData(dataset, version), analysis.Schema?.Label, analysis.Schema?.Task);
        if (await catalog.CommitVersionAsync(ingest.TenantId, record, ct))
        {
            LeptonTelemetry.RowsIngested.Add(cleaned.RowsOut, new KeyValuePair<string, object?>(LeptonTelemetry.TenantTag, ingest.TenantId));
        }

        // Also when this is a retry that found the version already committed: a crash between the commit and the entry
        // must not lose the entry, and the key keeps a retry from writing it twice.
        await audit.AppendAsync(ingest.TenantId, $"system:{ingest.RunId}", AuditActions.DatasetPublished, $"{ingest.TenantId}/datasets/{dataset}/v{version}",
            $"{cleaned.RowsOut} rows from {ingest.BlobName}", ct: ct, idempotencyKey: $"{ingest.RunId}:{AuditActions.DatasetPublished}");

        return record;
    }

    private static async Task<SourceAnalysis> ReadAnalysisAsync(TenantStorage storage, string blob, CancellationToken ct) =>
        (await storage.Curated.GetBlobClient(blob).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<SourceAnalysis>(LeptonJson.Options)!;

    /// <summary>Writes the report (JSON and plain text) and a copy of the file to the rejected container; removes any unpublished output.</summary>
    public async Task<string> RejectAsync(RejectRequest request, CancellationToken ct = default)
    {
        IngestRequest ingest = request.Ingest;
        using Activity? activity = LeptonTelemetry.StartStep("ingest.reject", ingest.TraceParent, ingest.TenantId, ingest.RunId);
        LeptonTelemetry.FilesRejected.Add(1, new KeyValuePair<string, object?>(LeptonTelemetry.TenantTag, ingest.TenantId));
        string dataset = ingest.Dataset ?? BlobLayout.InvalidPathDataset;
        TenantStorage storage = await tenants.ForTenantAsync(ingest.TenantId, ct);
        if (request.AllocatedVersion is { } allocated)
        {
            foreach (string blob in new[] { BlobLayout.CuratedData(dataset, allocated), BlobLayout.CuratedProfile(dataset, allocated), BlobLayout.CuratedQuality(dataset, allocated) })
            {
                await storage.Curated.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: ct);
            }
        }

        var report = new
        {
            runId = ingest.RunId,
            file = ingest.BlobName,
            etag = ingest.ETag,
            rejectedAt = time.GetUtcNow(),
            problems = request.Problems,
            rowsRead = request.Analysis?.DataRows,
            sha256 = request.Analysis?.Sha256,
        };
        string reportBlob = BlobLayout.RejectedReportText(dataset, ingest.RunId);
        await WriteJsonAsync(storage.Rejected, BlobLayout.RejectedReportJson(dataset, ingest.RunId), report, ct);
        await storage.Rejected.GetBlobClient(reportBlob).UploadAsync(
            BinaryData.FromString(FormatReport(ingest, request.Problems)), overwrite: true, ct);
        await CopyRejectedSourceAsync(storage, ingest, dataset, ct);
        if (ingest.Dataset is not null)
        {
            await catalog.RecordRejectionAsync(ingest.TenantId, ingest.Dataset, ingest.RunId,
                string.Join(" ", request.Problems.Select(p => p.Message)), ct);
        }

        return reportBlob;
    }

    public static string FormatReport(IngestRequest ingest, IReadOnlyList<IngestProblem> problems)
    {
        var text = new StringBuilder();
        text.AppendLine($"Lepton could not ingest '{ingest.BlobName}' (run {ingest.RunId}).");
        text.AppendLine("Nothing from this file was published. Fix the problems below and upload the file again.");
        text.AppendLine();
        foreach (IngestProblem problem in problems)
        {
            text.AppendLine($"- [{problem.Code}] {problem.Message}");
            foreach (string example in problem.Examples)
            {
                text.AppendLine($"    {example}");
            }
        }

        return text.ToString();
    }

    private async Task CopyRejectedSourceAsync(TenantStorage storage, IngestRequest ingest, string dataset, CancellationToken ct)
    {
        BlobClient source = storage.Ingest.GetBlobClient(ingest.BlobName);
        try
        {
            BlobProperties props = (await source.GetPropertiesAsync(IfMatch(ingest), ct)).Value;
            if (props.ContentLength > options.Value.MaxFileBytes)
            {
                return;
            }

            await using Stream input = await source.OpenReadAsync(new BlobOpenReadOptions(false) { Conditions = IfMatch(ingest) }, ct);
            string name = ingest.FileName ?? Path.GetFileName(ingest.BlobName);
            await storage.Rejected.GetBlobClient(BlobLayout.RejectedCopy(dataset, ingest.RunId, name)).UploadAsync(input, overwrite: true, ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // The source is gone or replaced; the report still says what was wrong with the version that was read.
        }
    }

    private static IReadOnlyList<string> DescribeRules(SourceAnalysis analysis, IngestionOptions options) =>
    [
        "trim whitespace around every cell",
        $"treat {string.Join(", ", CellValues.MissingTokens.Where(t => t.Length > 0).Select(t => $"'{t}'"))} and empty cells as missing",
        "coerce values to the column type; values that do not parse become missing",
        $"drop rows whose field count differs from the header (up to {options.MaxRaggedRowFraction:P1} of rows)",
        "drop rows without a label value",
        "drop exact duplicate rows (after trimming and missing-value normalization)",
        "impute missing numeric values with the column median, boolean and categorical values with the most frequent value",
        $"clip numeric values outside [Q1 - {options.OutlierIqrMultiplier}·IQR, Q3 + {options.OutlierIqrMultiplier}·IQR] to the fence (label excluded)",
    ];

    private static async Task<(DatasetSpec?, IngestProblem?)> ReadSpecAsync(TenantStorage storage, string dataset, CancellationToken ct)
    {
        try
        {
            BlobDownloadResult spec = (await storage.Ingest.GetBlobClient(BlobLayout.DatasetSpecBlob(dataset)).DownloadContentAsync(ct)).Value;
            return DatasetSpec.Parse(spec.Content.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, null);
        }
    }

    private static async Task WriteJsonAsync(BlobContainerClient container, string blobName, object? value, CancellationToken ct)
    {
        var content = BinaryData.FromObjectAsJson(value, LeptonJson.Options);
        await container.GetBlobClient(blobName).UploadAsync(content, new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, ct);
    }

    private static BlobRequestConditions IfMatch(IngestRequest request) => BlobConditions.IfMatch(request.ETag);
}
