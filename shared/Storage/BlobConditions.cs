using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Lepton.Storage;

public static class BlobConditions
{
    /// <summary>Read exactly the blob version an event named: a newer upload is its own run. Event ETags come unquoted.</summary>
    public static BlobRequestConditions IfMatch(string? etag) =>
        new() { IfMatch = string.IsNullOrEmpty(etag) ? null : new ETag($"\"{etag.Trim('"')}\"") };

    /// <summary>
    /// That version's content as one streamed download, for a parser to read: the next bytes arrive while it works on
    /// these (the SDK's read stream fetched a range per few megabytes, and the parser waited for each). The SDK resumes a
    /// broken read with the same If-Match, so a version replaced meanwhile is a 412 however far the read got.
    /// </summary>
    public static async Task<BlobDownloadStreamingResult> DownloadVersionAsync(this BlobClient blob, string? etag, CancellationToken ct) =>
        (await blob.DownloadStreamingAsync(new BlobDownloadOptions { Conditions = IfMatch(etag) }, ct)).Value;

    /// <summary>
    /// 404 when the blob is gone, 412 when it is no longer the version the ETag names (replaced), null while it still is:
    /// whether a run may still act for the upload it was started for.
    /// </summary>
    public static async Task<int?> VersionGoneAsync(this BlobClient blob, string? etag, CancellationToken ct)
    {
        try
        {
            await blob.GetPropertiesAsync(IfMatch(etag), ct);
            return null;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return e.Status;
        }
    }
}
