using Lepton.Storage;
using System.Text.Json;
using Lepton.Errors;
using Microsoft.AspNetCore.Http;

namespace Lepton.Functions.Http;

public static class RequestExtensions
{

    /// <summary>Largest JSON body an API call accepts; data goes through upload URLs, not the API.</summary>
    public const long MaxJsonBodyBytes = 1 << 20;

    /// <summary>Reads a JSON document of at most <paramref name="maxBytes"/>; oversized is 413, malformed 400.</summary>
    public static async Task<JsonDocument> ReadJsonDocumentAsync(this HttpRequest request, long maxBytes, CancellationToken ct = default)
    {
        if (request.ContentLength > maxBytes)
        {
            throw LeptonException.TooLarge($"The body may have at most {maxBytes:N0} bytes.");
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16384];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                throw LeptonException.TooLarge($"The body may have at most {maxBytes:N0} bytes.");
            }
        }

        if (buffer.Length == 0)
        {
            throw LeptonException.BadRequest("The request needs a JSON body.");
        }

        try
        {
            return JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            throw LeptonException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// Reads a JSON body; a missing, oversized or malformed body is the caller's error (400/413), never a 500. The limit
    /// holds for what is actually read, so a chunked body without a declared length cannot bypass it.
    /// </summary>
    public static async Task<T> ReadJsonBodyAsync<T>(this HttpRequest request, CancellationToken ct = default)
        where T : class
    {
        using JsonDocument document = await request.ReadJsonDocumentAsync(MaxJsonBodyBytes, ct);
        try
        {
            return document.RootElement.Deserialize<T>(LeptonJson.Options) ?? throw LeptonException.BadRequest("The request needs a JSON body.");
        }
        catch (JsonException e)
        {
            throw LeptonException.BadRequest($"The request body does not fit this request: {e.Message}");
        }
    }
}
