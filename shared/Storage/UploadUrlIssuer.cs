using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Lepton.Configuration;
using Lepton.Errors;
using Microsoft.Extensions.Options;

namespace Lepton.Storage;

public sealed record UploadUrl(Uri Url, string Container, string BlobName, DateTimeOffset ExpiresAt);

/// <summary>
/// Valet keys: a short-lived SAS for one blob in the tenant's ingest (or predictions) container. Every URL may only
/// create its blob (SAS permission c), never overwrite one, so it works once: it can neither upload again nor replace
/// what it uploaded. A file name already taken in the folder gets the next free "-2", "-3", ... before its extension
/// (the response names the blob): every upload is a new version of the dataset anyway, and a nightly "daily.csv"
/// keeps working without handing out a URL that could overwrite. The one exception is a dataset's settings file
/// (dataset.json), which is configuration and is replaced under its fixed name. Accounts with keys (Azurite) sign with the account
/// key; keyless accounts (Azure, shared-key access disabled) sign with a user delegation key the managed identity obtains.
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
        // The dataset's settings file is configuration, not data: a new one replaces the old under its fixed name.
        bool settings = dataset is not null && fileName == BlobLayout.DatasetSpecFileName;
        blobName = settings ? blobName : await FreeNameAsync(container, blobName, ct);
        BlobClient blob = container.GetBlobClient(blobName);
        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset expires = now + options.Value.UploadUrlLifetime;
        BlobSasPermissions permissions = settings ? BlobSasPermissions.Create | BlobSasPermissions.Write : BlobSasPermissions.Create;
        Uri url = await SasUrls.ForBlobAsync(storage.Service, blob, permissions, now, expires, ct);
        return new UploadUrl(url, container.Name, blobName, expires);
    }

    /// <summary>
    /// The blob name itself when it is free, else "stem-N.ext" with the smallest free N ≥ 2, from one listing of the
    /// names that start with the stem. Two URLs issued at once may get the same name: the second upload is then refused
    /// by storage (409), and nothing is overwritten.
    /// </summary>
    private static async Task<string> FreeNameAsync(BlobContainerClient container, string blobName, CancellationToken ct)
    {
        int slash = blobName.LastIndexOf('/');
        string folder = blobName[..(slash + 1)], file = blobName[(slash + 1)..];
        string extension = Path.GetExtension(file), stem = file[..^extension.Length];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        await foreach (BlobItem item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, folder + stem, ct))
        {
            taken.Add(item.Name);
        }

        if (!taken.Contains(blobName))
        {
            return blobName;
        }

        for (int n = 2; ; n++)
        {
            string candidate = $"{stem}-{n}{extension}";
            if (!taken.Contains(folder + candidate))
            {
                return Names.IsValidFileName(candidate)
                    ? folder + candidate
                    : throw LeptonException.Conflict($"'{file}' is taken in this folder and no free numbered name fits the file name rules; choose another name.");
            }
        }
    }
}
