using System.Text.Json;
using Azure;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Datasets;

public sealed record VersionDetail(DatasetVersionRecord Version, JsonElement? Schema, JsonElement? Profile, JsonElement? Quality, JsonElement? Lineage);

public sealed record RejectionView(string RunId, string FileName, DateTimeOffset ReceivedAt, string? Reason, string Report);

public sealed record DatasetDetail(
    string Dataset,
    int LatestVersion,
    IReadOnlyList<DatasetVersionRecord> Versions,
    VersionDetail? Selected,
    IReadOnlyList<IngestRunRecord> Runs,
    IReadOnlyList<RejectionView> Rejections);

/// <summary>Read side of datasets: the catalog for lists, the tenant's curated container for a version's documents.</summary>
public sealed class DatasetQueries(DatasetCatalog catalog, TenantStorageFactory tenants)
{
    public Task<IReadOnlyList<DatasetSummary>> ListAsync(string tenant, CancellationToken ct = default) => catalog.ListDatasetsAsync(tenant, ct);

    /// <summary>The dataset with every version and run; the documents of one version (the latest unless asked).</summary>
    public async Task<DatasetDetail> GetAsync(string tenant, string dataset, int? version, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(dataset))
        {
            throw LeptonException.NotFound($"Dataset '{dataset}' was not found.");
        }

        // Runs first: a run and its version are committed in one transaction, so a run read as published has its version
        // in the later read. Versions first let a commit fall between the reads — a published run whose version was missing.
        IReadOnlyList<IngestRunRecord> runs = await catalog.ListRunsAsync(tenant, dataset, ct);
        IReadOnlyList<DatasetVersionRecord> versions = await catalog.ListVersionsAsync(tenant, dataset, ct);
        if (versions.Count == 0 && runs.Count == 0)
        {
            throw LeptonException.NotFound($"Dataset '{dataset}' was not found.");
        }

        DatasetVersionRecord? chosen = version is { } v ? versions.FirstOrDefault(x => x.Version == v) : versions.LastOrDefault();
        if (version is not null && chosen is null)
        {
            throw LeptonException.NotFound($"Dataset '{dataset}' has no version {version}.");
        }

        TenantStorage storage = await tenants.ForTenantAsync(tenant, ct);
        VersionDetail? detail = chosen is null ? null : new VersionDetail(
            chosen,
            await ReadJsonAsync(storage, BlobLayout.CuratedSchema(dataset, chosen.Version), ct),
            await ReadJsonAsync(storage, BlobLayout.CuratedProfile(dataset, chosen.Version), ct),
            await ReadJsonAsync(storage, BlobLayout.CuratedQuality(dataset, chosen.Version), ct),
            await ReadJsonAsync(storage, BlobLayout.CuratedLineage(dataset, chosen.Version), ct));
        var rejections = runs.Where(r => r.Status == IngestRunStatus.Rejected)
            .Select(r => new RejectionView(r.RunId, r.FileName, r.ReceivedAt, r.Reason,
                $"{BlobLayout.RejectedContainer}/{BlobLayout.RejectedReportText(dataset, r.RunId)}"))
            .ToList();
        return new DatasetDetail(dataset, versions.Count == 0 ? 0 : versions[^1].Version, versions, detail, runs, rejections);
    }

    /// <summary>The schema of a published version.</summary>
    public async Task<Ingestion.DatasetSchema> ReadSchemaAsync(string tenant, string dataset, int version, CancellationToken ct = default)
    {
        TenantStorage storage = await tenants.ForTenantAsync(tenant, ct);
        JsonElement schema = await ReadJsonAsync(storage, BlobLayout.CuratedSchema(dataset, version), ct)
            ?? throw LeptonException.NotFound($"Dataset '{dataset}' v{version} has no schema.");
        return schema.Deserialize<Ingestion.DatasetSchema>(LeptonJson.Options)!;
    }

    private static async Task<JsonElement?> ReadJsonAsync(TenantStorage storage, string blobName, CancellationToken ct)
    {
        try
        {
            BinaryData content = (await storage.Curated.GetBlobClient(blobName).DownloadContentAsync(ct)).Value.Content;
            using JsonDocument doc = JsonDocument.Parse(content);
            return doc.RootElement.Clone();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }
}
