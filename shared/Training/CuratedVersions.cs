using System.Text;
using Azure.Storage.Blobs;

namespace Lepton.Training;

/// <summary>Several curated versions of one schema as one local CSV: each blob's rows after a single header.</summary>
public static class CuratedVersions
{
    public static async Task WriteAsync(IReadOnlyList<BlobClient> blobs, string path, CancellationToken ct)
    {
        string temp = path + "." + Guid.NewGuid().ToString("N");
        await using (var output = new StreamWriter(temp, false, new UTF8Encoding(false)))
        {
            for (int i = 0; i < blobs.Count; i++)
            {
                await using Stream blob = await blobs[i].OpenReadAsync(cancellationToken: ct);
                using var reader = new StreamReader(blob, Encoding.UTF8);
                string? header = await reader.ReadLineAsync(ct);
                if (i == 0)
                {
                    await output.WriteLineAsync(header);
                }

                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    await output.WriteLineAsync(line);
                }
            }
        }

        // Readers of the path never see half a file.
        File.Move(temp, path, overwrite: true);
    }
}
