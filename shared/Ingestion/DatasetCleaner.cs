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

        var values = new string?[n];
        var numbers = new double[n];
        var missing = new bool[n];
        var hasher = new XxHash3(seed: 0);
        var seen = new RowHashSet();
        char separator = analysis.Separator[0];

        using TextReader text = CsvFormat.OpenText(source);
        using SepReader reader = CsvFormat.OpenReader(text, separator);
        _ = CsvFormat.ReadHeader(reader);
        using var writerText = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
        using (SepWriter writer = Sep.New(separator).Writer(o => o with { Escape = true }).To(writerText))
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

                hasher.Reset();
                bool labelMissing = false;
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<char> raw = row[i].Span;
                    ReadOnlySpan<char> cell = raw.Trim();
                    if (cell.Length != raw.Length)
                    {
                        trimmedCells++;
                    }

                    missing[i] = !TryNormalize(rules[i].Kind, cell, out values[i], out numbers[i], out bool invalid, out bool token);
                    if (token)
                    {
                        missingTokens++;
                    }

                    if (invalid)
                    {
                        coerced[i]++;
                    }

                    if (missing[i] && rules[i].IsLabel)
                    {
                        labelMissing = true;
                    }

                    hasher.Append(MemoryMarshal.AsBytes((values[i] ?? "").AsSpan()));
                    hasher.Append(missing[i] ? [0x1F, 0] : [0x1E, 0]);
                }

                if (labelMissing)
                {
                    missingLabel++;
                    continue;
                }

                if (!seen.Add(hasher.GetCurrentHashAsUInt64()))
                {
                    duplicates++;
                    continue;
                }

                using SepWriter.Row outRow = writer.NewRow();
                for (int i = 0; i < n; i++)
                {
                    CleaningRule rule = rules[i];
                    string value = values[i] ?? "";
                    if (missing[i])
                    {
                        if (rule.ImputeValue is { } fill)
                        {
                            imputed[i]++;
                            value = fill;
                            outStats[i].Add(value);
                        }
                        else
                        {
                            outStats[i].AddMissing();
                        }
                    }
                    else if (rule.Kind == ColumnKind.Numeric)
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

    /// <summary>Brings one trimmed cell to its column's canonical text; false when the value is missing.</summary>
    internal static bool TryNormalize(ColumnKind kind, ReadOnlySpan<char> cell, out string? value, out double number, out bool invalid, out bool missingToken)
    {
        number = 0;
        invalid = false;
        missingToken = false;
        value = null;
        if (CellValues.IsMissing(cell))
        {
            missingToken = !cell.IsEmpty;
            return false;
        }

        switch (kind)
        {
            case ColumnKind.Numeric when CellValues.TryParseNumber(cell, out number):
                value = cell.ToString();
                return true;
            case ColumnKind.Boolean when CellValues.TryParseBoolean(cell, out bool flag):
                value = CellValues.FormatBoolean(flag);
                return true;
            case ColumnKind.DateTime when CellValues.TryParseDateTime(cell, out DateTimeOffset time):
                value = CellValues.FormatDateTime(time);
                return true;
            case ColumnKind.Categorical or ColumnKind.Text:
                value = cell.ToString();
                return true;
            default:
                invalid = true;
                return false;
        }
    }
}
