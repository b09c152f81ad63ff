using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>
/// Pass two: streams the source again and writes the curated rows. Rules, in order: drop ragged rows,
/// trim cells, normalize missing tokens, coerce values to the column's type (invalid ones become missing),
/// drop rows without a label, drop exact duplicate rows, impute missing values, clip numeric outliers to the
/// IQR fences. Every change is counted; the output is profiled as it is written.
/// </summary>
public sealed class DatasetCleaner
{
    public CleaningResult Clean(Stream source, Stream output, SourceAnalysis analysis)
    {
        IReadOnlyList<CleaningRule> rules = analysis.Rules;
        int n = rules.Count;
        var outStats = rules.Select((r, i) => new ColumnStats(r.Column, seed: 31 + i)).ToArray();
        var coerced = new long[n];
        var imputed = new long[n];
        var clipped = new long[n];
        long rowsIn = 0, rowsOut = 0, raggedDropped = 0, duplicates = 0, missingLabel = 0, trimmedCells = 0, missingTokens = 0;

        // Per row, a cell's output is either its own trimmed text (kept as a range into the row, never copied)
        // or a replacement string; nothing is allocated per cell except normalized timestamps.
        var replacements = new string?[n];
        var numbers = new double[n];
        var missing = new bool[n];
        char[] rowKey = new char[1024];
        var seen = new RowHashSet(analysis.DataRows);
        char separator = analysis.Separator[0];

        using TextReader text = CsvFormat.OpenText(source);
        using SepReader reader = CsvFormat.OpenReader(text, separator);
        _ = CsvFormat.ReadHeader(reader);
        using var writerText = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
        // Curated data is always comma-separated, whatever the source used.
        using (SepWriter writer = Sep.New(',').Writer(o => o with { Escape = true }).To(writerText))
        {
            writer.Header.Add(rules.Select(r => r.Column).ToArray());
            foreach (SepReader.Row row in reader)
            {
                rowsIn++;
                if (row.ColCount != n)
                {
                    raggedDropped++;
                    continue;
                }

                int keyLength = 0;
                bool labelMissing = false;
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<char> raw = row[i].Span;
                    ReadOnlySpan<char> cell = raw.Trim();
                    if (cell.Length != raw.Length)
                    {
                        trimmedCells++;
                    }

                    CellOutcome outcome = Normalize(rules[i].Kind, cell, out replacements[i], out numbers[i]);
                    missing[i] = outcome != CellOutcome.Present;
                    if (outcome == CellOutcome.MissingToken)
                    {
                        missingTokens++;
                    }
                    else if (outcome == CellOutcome.Invalid)
                    {
                        coerced[i]++;
                    }

                    if (missing[i] && rules[i].IsLabel)
                    {
                        labelMissing = true;
                    }

                    // The duplicate key: normalized values with a marker after each that also tells missing from empty text.
                    ReadOnlySpan<char> value = missing[i] ? default : replacements[i] ?? cell;
                    if (keyLength + value.Length + 1 > rowKey.Length)
                    {
                        Array.Resize(ref rowKey, Math.Max(rowKey.Length * 2, keyLength + value.Length + 1));
                    }

                    value.CopyTo(rowKey.AsSpan(keyLength));
                    keyLength += value.Length;
                    rowKey[keyLength++] = missing[i] ? '\u001F' : '\u001E';
                }

                if (labelMissing)
                {
                    missingLabel++;
                    continue;
                }

                if (!seen.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(rowKey.AsSpan(0, keyLength)))))
                {
                    duplicates++;
                    continue;
                }

                using SepWriter.Row outRow = writer.NewRow();
                for (int i = 0; i < n; i++)
                {
                    CleaningRule rule = rules[i];
                    if (missing[i])
                    {
                        if (rule.ImputeValue is { } fill)
                        {
                            imputed[i]++;
                            outStats[i].Add(fill);
                            outRow[i].Set(fill);
                        }
                        else
                        {
                            outStats[i].AddMissing();
                            outRow[i].Set(ReadOnlySpan<char>.Empty);
                        }

                        continue;
                    }

                    ReadOnlySpan<char> value = replacements[i] ?? row[i].Span.Trim();
                    if (rule.Kind == ColumnKind.Numeric)
                    {
                        double number = numbers[i];
                        if (number < rule.LowerFence || number > rule.UpperFence)
                        {
                            number = Math.Clamp(number, rule.LowerFence!.Value, rule.UpperFence!.Value);
                            value = CellValues.FormatNumber(number);
                            clipped[i]++;
                        }

                        outStats[i].AddNumeric(number, value);
                    }
                    else
                    {
                        outStats[i].Add(value);
                    }

                    outRow[i].Set(value);
                }

                rowsOut++;
            }
        }

        writerText.Flush();
        var perColumn = rules.Select((r, i) => (r.Column, Counts: new ColumnCleaningCounts(coerced[i], imputed[i], clipped[i])))
            .ToDictionary(p => p.Column, p => p.Counts, StringComparer.Ordinal);
        var counts = new CleaningCounts(raggedDropped, duplicates, missingLabel, trimmedCells, missingTokens,
            coerced.Sum(), imputed.Sum(), clipped.Sum(), perColumn);
        IReadOnlyList<IngestProblem> problems = rowsOut == 0
            ? [new IngestProblem("no-rows-left", $"No row survived cleaning ({rowsIn:N0} in: {duplicates:N0} duplicates, {missingLabel:N0} without a label, {raggedDropped:N0} ragged).", [])]
            : [];
        var profile = outStats.Select((s, i) => s.ToProfile(rules[i].Kind)).ToList();
        return new CleaningResult(rowsIn, rowsOut, counts, profile, problems);
    }

    internal enum CellOutcome
    {
        Present,
        MissingToken,
        Empty,
        Invalid,
    }

    /// <summary>
    /// Classifies one trimmed cell for its column's kind. A present cell keeps its own text unless
    /// <paramref name="replacement"/> gives the canonical form (booleans, timestamps).
    /// </summary>
    internal static CellOutcome Normalize(ColumnKind kind, ReadOnlySpan<char> cell, out string? replacement, out double number)
    {
        number = 0;
        replacement = null;
        if (CellValues.IsMissing(cell))
        {
            return cell.IsEmpty ? CellOutcome.Empty : CellOutcome.MissingToken;
        }

        switch (kind)
        {
            case ColumnKind.Numeric when CellValues.TryParseNumber(cell, out number):
                return CellOutcome.Present;
            case ColumnKind.Boolean when CellValues.TryParseBoolean(cell, out bool flag):
                replacement = CellValues.FormatBoolean(flag);
                return CellOutcome.Present;
            case ColumnKind.DateTime when CellValues.TryParseDateTime(cell, out DateTimeOffset time):
                replacement = CellValues.FormatDateTime(time);
                return CellOutcome.Present;
            case ColumnKind.Categorical or ColumnKind.Text:
                return CellOutcome.Present;
            default:
                return CellOutcome.Invalid;
        }
    }
}
