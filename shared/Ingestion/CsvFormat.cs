using System.Text;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>How source files are decoded and tokenized: strict UTF-8 (a BOM is allowed), separator detected from the header.</summary>
public static class CsvFormat
{
    public static readonly IReadOnlyList<string> AcceptedExtensions = [".csv", ".tsv", ".txt"];

    /// <summary>The longest row the parser (Sep) buffers, in characters; a longer one ends the file with a rejection.</summary>
    public const int MaxRowChars = 16 * 1024 * 1024;

    public static bool HasAcceptedExtension(string fileName) =>
        AcceptedExtensions.Contains(Path.GetExtension(fileName).ToLowerInvariant());

    public static TextReader OpenText(Stream stream) =>
        new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true),
            detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);

    public static SepReader OpenReader(TextReader text, char? separator = null) =>
        (separator is { } sep ? Sep.New(sep).Reader(Configure) : Sep.Reader(Configure)).From(text);

    // The header is read as an ordinary row so that bad headers (duplicates, blanks) can be reported rather than thrown.
    private static SepReaderOptions Configure(SepReaderOptions o) => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true };

    /// <summary>
    /// Reads the first row as the header: names trimmed, without a UTF-8 byte-order mark. Null for a file without any row.
    /// </summary>
    public static string[]? ReadHeader(SepReader reader)
    {
        if (!reader.MoveNext())
        {
            return null;
        }

        SepReader.Row row = reader.Current;
        var names = new string[row.ColCount];
        for (int i = 0; i < names.Length; i++)
        {
            string name = row[i].ToString();
            names[i] = (i == 0 ? name.TrimStart('\uFEFF') : name).Trim();
        }

        return names;
    }
}
