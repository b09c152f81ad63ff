using System.Text;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>How source files are decoded and tokenized: strict UTF-8 (a BOM is allowed), separator detected from the header.</summary>
public static class CsvFormat
{
    public static readonly IReadOnlyList<string> AcceptedExtensions = [".csv", ".tsv", ".txt"];

    public static bool HasAcceptedExtension(string fileName) =>
        AcceptedExtensions.Contains(Path.GetExtension(fileName).ToLowerInvariant());

    public static TextReader OpenText(Stream stream) =>
        new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true),
            detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);

    public static SepReader OpenReader(TextReader text, char? separator = null) =>
        (separator is { } sep ? Sep.New(sep).Reader(Configure) : Sep.Reader(Configure)).From(text);

    private static SepReaderOptions Configure(SepReaderOptions o) => o with { DisableColCountCheck = true, Unescape = true };

    /// <summary>Header names as the dataset will carry them: trimmed, without a UTF-8 byte-order mark.</summary>
    public static string[] HeaderNames(SepReader reader) =>
        reader.Header.ColNames.Select((name, i) => (i == 0 ? name.TrimStart('\uFEFF') : name).Trim()).ToArray();
}
