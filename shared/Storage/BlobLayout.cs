namespace Lepton.Storage;

/// <summary>
/// The one definition of where things live in storage. Tenant accounts hold the tenant's data;
/// the platform account holds only registry tables. Nothing else in the code builds a container or blob path.
/// </summary>
public static class BlobLayout
{
    public const string IngestContainer = "ingest";
    public const string CuratedContainer = "curated";
    public const string RejectedContainer = "rejected";
    public const string PredictionsContainer = "predictions";

    public static IReadOnlyList<string> TenantContainers { get; } =
        [IngestContainer, CuratedContainer, RejectedContainer, PredictionsContainer];

    /// <summary>The optional per-dataset settings file next to the data files.</summary>
    public const string DatasetSpecFileName = "dataset.json";

    public static string IngestBlob(string dataset, string fileName) => $"{dataset}/{fileName}";

    /// <summary>Files to score in batch: predictions/in/&lt;model&gt;/&lt;file&gt;; results go to predictions/out/&lt;model&gt;/.</summary>
    public static string PredictionInput(string model, string fileName) => $"in/{model}/{fileName}";

    /// <summary>Scratch of one batch scoring run: its input split into chunks, deleted when the run ends.</summary>
    public static string BatchWorkPrefix(string runId) => $"work/{runId}/";

    public static string BatchChunk(string runId, int index) => $"{BatchWorkPrefix(runId)}chunk-{index:D6}.csv";

    public static string DatasetSpecBlob(string dataset) => $"{dataset}/{DatasetSpecFileName}";

    public static string CuratedVersionPrefix(string dataset, int version) => $"{dataset}/v{version}/";

    public static string CuratedData(string dataset, int version) => CuratedVersionPrefix(dataset, version) + "data.csv";

    public static string CuratedSchema(string dataset, int version) => CuratedVersionPrefix(dataset, version) + "schema.json";

    public static string CuratedProfile(string dataset, int version) => CuratedVersionPrefix(dataset, version) + "profile.json";

    public static string CuratedQuality(string dataset, int version) => CuratedVersionPrefix(dataset, version) + "quality.json";

    public static string CuratedLineage(string dataset, int version) => CuratedVersionPrefix(dataset, version) + "lineage.json";

    /// <summary>
    /// A member's private key for one federated run's secure aggregation, kept in the member's own curated container
    /// (never in the platform account). Dataset names cannot start with '_', so it never meets a dataset.
    /// </summary>
    public static string FederationKey(string collaboration, string runId) => $"_federation/{collaboration}/{runId}.key";

    /// <summary>
    /// Pass one's full analysis of an ingest run's source (schema, raw profile, cleaning plan), in the tenant's curated
    /// container; activities pass this name instead of the analysis. Kept as the run's record, like a rejection report.
    /// </summary>
    public static string IngestAnalysis(string runId) => $"_runs/{runId}/analysis.json";

    /// <summary>Where reports go for files dropped outside a dataset folder.</summary>
    public const string InvalidPathDataset = "_invalid-path";

    public static string RejectedPrefix(string dataset, string runId) => $"{dataset}/{runId}/";

    public static string RejectedReportJson(string dataset, string runId) => RejectedPrefix(dataset, runId) + "report.json";

    public static string RejectedReportText(string dataset, string runId) => RejectedPrefix(dataset, runId) + "report.txt";

    public static string RejectedCopy(string dataset, string runId, string fileName) => RejectedPrefix(dataset, runId) + fileName;

    /// <summary>
    /// Splits an ingest blob name into dataset and file. Only "dataset/file" is a valid drop location.
    /// </summary>
    public static bool TryParseIngestBlob(string blobName, out string dataset, out string fileName)
    {
        dataset = fileName = "";
        string[] parts = blobName.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            return false;
        }

        (dataset, fileName) = (parts[0], parts[1]);
        return true;
    }
}
