using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace Lepton.Storage;

/// <summary>
/// The one way the platform hands out access to exactly one blob: a SAS signed with the account key where the client has
/// one (Azurite), else a user-delegation SAS signed with the managed identity (Azure, where shared keys are off).
/// </summary>
public static class SasUrls
{
    public static async Task<Uri> ForBlobAsync(BlobServiceClient service, BlobClient blob, BlobSasPermissions permissions, DateTimeOffset now,
        DateTimeOffset expires, CancellationToken ct)
    {
        var sas = new BlobSasBuilder(permissions, expires)
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            // Allow for clock skew between this host and storage.
            StartsOn = now.AddMinutes(-5),
        };
        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(sas);
        }

        UserDelegationKey key = await service.GetUserDelegationKeyAsync(sas.StartsOn, expires, ct);
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, service.AccountName) }.ToUri();
    }
}
