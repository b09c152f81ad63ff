using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Lepton.Configuration;
using Lepton.Errors;
using Microsoft.Extensions.Options;

namespace Lepton.Storage;

public sealed record UploadUrl(Uri Url, string Container, string BlobName, DateTimeOffset ExpiresAt);

/// <summary>
/// Valet keys: a short-lived SAS for one blob in the tenant's ingest (or predictions) container. For a name not yet
/// taken it may only create the blob, so the URL works once: it can neither upload again nor replace what it uploaded.
/// Replacing a file under the same name (a new version of it) takes a new URL, which then carries write permission.
/// Accounts with keys (Azurite) sign with the account key; keyless accounts (Azure, shared-key access disabled)
/// sign with a user delegation key the managed identity obtains.
/// </summary>
public sealed class UploadUrlIssuer(TenantStorageFactory tenants, IOptions<LeptonOptions> options, TimeProvider time)
{
    /// <summary>An upload URL for a data file (ingest/&lt;dataset&gt;/) or, with a model, for a file to score (predictions/in/&lt;model&gt;/).</summary>
    public async Task<UploadUrl> IssueAsync(string tenantId, string? dataset, string? model, string? fileName, CancellationToken ct = default)
    {
        if ((dataset is null) == (model is null))
        {
            throw LeptonException.BadRequest("Give either 'dataset' (data to ingest) or 'model' (a file to score), not both.");
        }

        if (!Names.IsValidDataset(dataset ?? model))
        {
            throw LeptonException.BadRequest($"'{(dataset is null ? "model" : "dataset")}' must be {Names.DatasetRule}.");
        }

        if (!Names.IsValidFileName(fileName))
        {
            throw LeptonException.BadRequest($"'fileName' must be {Names.FileRule}.");
        }

        TenantStorage storage = await tenants.ForTenantAsync(tenantId, ct);
        BlobContainerClient container = dataset is null ? storage.Predictions : storage.Ingest;
        string blobName = dataset is null ? BlobLayout.PredictionInput(model!, fileName!) : BlobLayout.IngestBlob(dataset, fileName!);
        BlobClient blob = container.GetBlobClient(blobName);
        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset expires = now + options.Value.UploadUrlLifetime;
        BlobSasPermissions permissions = await blob.ExistsAsync(ct) ? BlobSasPermissions.Write : BlobSasPermissions.Create;
        Uri url = await SasUrls.ForBlobAsync(storage.Service, blob, permissions, now, expires, ct);
        return new UploadUrl(url, container.Name, blobName, expires);
    }
}
