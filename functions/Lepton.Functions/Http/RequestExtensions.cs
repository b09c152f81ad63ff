using Lepton.Storage;
using System.Text.Json;
using Lepton.Errors;
using Microsoft.AspNetCore.Http;

namespace Lepton.Functions.Http;

public static class RequestExtensions
{

    /// <summary>Largest JSON body an API call accepts; data goes through upload URLs, not the API.</summary>
    public const long MaxJsonBodyBytes = 1 << 20;

    /// <summary>
    /// Reads a JSON document of at most <paramref name="maxBytes"/>; oversized is 413, malformed 400. The document's
    /// buffer is pooled (returned when it is disposed), so a request allocates no copy of its body.
    /// </summary>
    public static async Task<JsonDocument> ReadJsonDocumentAsync(this HttpRequest request, long maxBytes, CancellationToken ct = default)
    {
        if (request.ContentLength > maxBytes)
        {
            throw BodyTooLarge(maxBytes);
        }

        var body = new LimitedBody(request.Body, maxBytes);
        try
        {
            return await JsonDocument.ParseAsync(body, default, ct);
        }
        catch (JsonException) when (body.BytesRead == 0)
        {
            throw LeptonException.BadRequest("The request needs a JSON body.");
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

    private static LeptonException BodyTooLarge(long maxBytes) => LeptonException.TooLarge($"The body may have at most {maxBytes:N0} bytes.");

    /// <summary>
    /// The request body as read: counts the bytes and stops with 413 past the limit, so a chunked body without a declared
    /// length cannot exceed it either.
    /// </summary>
    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            BytesRead += read;
            return BytesRead > limit ? throw BodyTooLarge(limit) : read;
        }
    }
}
