namespace Lepton.Ingestion;

/// <summary>The input of an ingest run: a reference to the uploaded blob, never its content.</summary>
public sealed record IngestRequest(string TenantId, string Account, string BlobName, string ETag, string? Dataset, string? FileName, string RunId)
{
    /// <summary>The W3C trace context of the upload's webhook call: each step of the run is a span of that trace.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>What one run produced: a published version or a rejection with its report.</summary>
public sealed record IngestOutcome(
    string RunId,
    string Status,
    string? Dataset,
    int? Version,
    long RowsIn,
    long RowsOut,
    IReadOnlyList<IngestProblem> Problems,
    string? ReportBlob)
{
    /// <summary>The training run dataset.json's autoTrain started, if any.</summary>
    public string? TrainingRunId { get; init; }
}

/// <summary>
/// What the orchestrator needs of pass one; the whole analysis (schema, raw profile, cleaning plan — large at thousands
/// of columns) stays in <see cref="AnalysisBlob"/> in the tenant's curated container and never enters the durable history.
/// </summary>
public sealed record AnalysisSummary(string AnalysisBlob, string Sha256, long DataRows, IReadOnlyList<IngestProblem> Problems, DatasetSpec? Spec)
{
    public bool IsRejected => Problems.Count > 0;
}

public sealed record CleanRequest(IngestRequest Ingest, string AnalysisBlob);

/// <summary>Pass two's counts; its profile and quality report are already next to the data in the unpublished version.</summary>
public sealed record CleanedVersion(int Version, long RowsIn, long RowsOut, IReadOnlyList<IngestProblem> Problems)
{
    public bool IsRejected => Problems.Count > 0;
}

public sealed record PublishRequest(IngestRequest Ingest, string AnalysisBlob, CleanedVersion Cleaned);

public sealed record RejectRequest(IngestRequest Ingest, IReadOnlyList<IngestProblem> Problems, AnalysisSummary? Analysis, int? AllocatedVersion);
