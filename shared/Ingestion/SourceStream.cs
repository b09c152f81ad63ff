using System.Security.Cryptography;

namespace Lepton.Ingestion;

/// <summary>
/// Read-through wrapper that hashes (SHA-256) and counts what the parser reads and notices NUL bytes,
/// so lineage and binary detection cost no second read of the source.
/// </summary>
public sealed class SourceStream(Stream inner) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    public bool SawNulByte { get; private set; }

    public string Sha256Hex() => Convert.ToHexStringLower(_sha256.GetCurrentHash());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        Observe(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Observe(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads what the parser left unread (e.g. after it stopped early) so the hash covers the whole file.</summary>
    public void DrainToEnd()
    {
        byte[] buffer = new byte[81920];
        while (Read(buffer) > 0)
        {
        }
    }

    private void Observe(ReadOnlySpan<byte> data)
    {
        BytesRead += data.Length;
        _sha256.AppendData(data);
        if (!SawNulByte && data.Contains((byte)0))
        {
            SawNulByte = true;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
