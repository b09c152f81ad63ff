namespace Lepton.Ingestion;

/// <summary>The input of an ingest run: a reference to the uploaded blob, never its content.</summary>
public sealed record IngestRequest(string TenantId, string Account, string BlobName, string ETag, string? Dataset, string? FileName, string RunId);

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

public sealed record CleanRequest(IngestRequest Ingest, SourceAnalysis Analysis);

public sealed record CleanedVersion(int Version, CleaningResult Cleaning);

public sealed record PublishRequest(IngestRequest Ingest, SourceAnalysis Analysis, CleanedVersion Cleaned);

public sealed record RejectRequest(IngestRequest Ingest, IReadOnlyList<IngestProblem> Problems, SourceAnalysis? Analysis, int? AllocatedVersion);

/// <summary>Progress an ingest run reports as its custom status.</summary>
public sealed record IngestProgress(string Stage, int Done, int Total);
