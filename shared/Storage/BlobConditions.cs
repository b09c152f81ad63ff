using Azure;
using Azure.Storage.Blobs.Models;

namespace Lepton.Storage;

public static class BlobConditions
{
    /// <summary>Read exactly the blob version an event named: a newer upload is its own run. Event ETags come unquoted.</summary>
    public static BlobRequestConditions IfMatch(string? etag) =>
        new() { IfMatch = string.IsNullOrEmpty(etag) ? null : new ETag($"\"{etag.Trim('"')}\"") };
}
