using System.Buffers;
using System.Text;

namespace Lepton.Ingestion;

/// <summary>
/// Formats curated rows: comma-separated, '\n' after each row, UTF-8 without a byte-order mark; a value is quoted (quotes
/// inside doubled) only when it holds a comma, a quote or a line break. A row is gathered as text and encoded whole into
/// the caller's byte buffer, so rows can be formatted on any thread and written later as plain bytes.
/// </summary>
internal sealed class CsvRowWriter
{
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private char[] _chars = new char[1024];
    private int _length;
    private int _cells;

    public void Cell(ReadOnlySpan<char> value)
    {
        if (_cells++ > 0)
        {
            Put(',');
        }

        if (value.IndexOfAny(NeedsQuotes) < 0)
        {
            Put(value);
            return;
        }

        Put('"');
        for (int quote = value.IndexOf('"'); quote >= 0; quote = value.IndexOf('"'))
        {
            Put(value[..(quote + 1)]);
            Put('"');
            value = value[(quote + 1)..];
        }

        Put(value);
        Put('"');
    }

    /// <summary>Ends the row and appends it, encoded, to <paramref name="bytes"/> at <paramref name="length"/> (grown as needed).</summary>
    public void EndRow(ref byte[] bytes, ref int length)
    {
        Put('\n');
        ReadOnlySpan<char> row = _chars.AsSpan(0, _length);
        int needed = Utf8.GetMaxByteCount(row.Length);
        if (length + needed > bytes.Length)
        {
            Array.Resize(ref bytes, Math.Max(bytes.Length * 2, length + needed));
        }

        length += Utf8.GetBytes(row, bytes.AsSpan(length));
        (_length, _cells) = (0, 0);
    }

    /// <summary>One row as bytes: the header.</summary>
    public static byte[] Format(IEnumerable<string> cells)
    {
        var writer = new CsvRowWriter();
        foreach (string cell in cells)
        {
            writer.Cell(cell);
        }

        byte[] bytes = [];
        int length = 0;
        writer.EndRow(ref bytes, ref length);
        return bytes[..length];
    }

    private void Put(char c)
    {
        if (_length == _chars.Length)
        {
            Array.Resize(ref _chars, _chars.Length * 2);
        }

        _chars[_length++] = c;
    }

    private void Put(ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _chars.Length)
        {
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _length + text.Length));
        }

        text.CopyTo(_chars.AsSpan(_length));
        _length += text.Length;
    }
}
