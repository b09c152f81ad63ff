using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>
/// Pass two: streams the source again and writes the curated rows. Rules, in order: drop ragged rows,
/// trim cells, normalize missing tokens, coerce values to the column's type (invalid ones become missing),
/// drop rows without a label, drop exact duplicate rows, impute missing values, clip numeric outliers to the
/// IQR fences. Every change is counted; the output is profiled as it is written. Reading and writing overlap on two
/// threads; the output and its profile are the same as one thread's (both stages keep the row order).
/// </summary>
public sealed class DatasetCleaner
{
    public CleaningResult Clean(Stream source, Stream output, SourceAnalysis analysis)
    {
        IReadOnlyList<CleaningRule> rules = analysis.Rules;
        int n = rules.Count;
        var coerced = new long[n];
        long rowsIn = 0, raggedDropped = 0, missingLabel = 0, trimmedCells = 0, missingTokens = 0;
        var replacements = new string?[n];
        var numbers = new double[n];
        var missing = new bool[n];
        char separator = analysis.Separator[0];

        // Two stages on two threads, in row order (CellPipeline). This one decodes, splits and normalizes each row and
        // drops ragged rows and rows without a label; the writer drops duplicates, imputes, clips, profiles and writes.
        // Nothing is allocated per cell except normalized timestamps.
        var written = new WriterStage(rules, analysis.DataRows);
        using var writerText = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
        // Curated data is always comma-separated, whatever the source used.
        using SepWriter writer = Sep.New(',').Writer(o => o with { Escape = true }).To(writerText);
        writer.Header.Add(rules.Select(r => r.Column).ToArray());
        using (var pipeline = new CellPipeline(n, batch => written.Write(batch, writer)))
        {
            try
            {
                using TextReader text = CsvFormat.OpenText(source);
                using SepReader reader = CsvFormat.OpenReader(text, separator);
                _ = CsvFormat.ReadHeader(reader);
                foreach (SepReader.Row row in reader)
                {
                    rowsIn++;
                    if (row.ColCount != n)
                    {
                        raggedDropped++;
                        continue;
                    }

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

                        labelMissing |= missing[i] && rules[i].IsLabel;
                    }

                    if (labelMissing)
                    {
                        missingLabel++;
                        continue;
                    }

                    CellBatch batch = pipeline.Current;
                    for (int i = 0; i < n; i++)
                    {
                        if (missing[i])
                        {
                            batch.Add(ReadOnlySpan<char>.Empty, CellOp.Missing, 0);
                        }
                        else
                        {
                            batch.Add(replacements[i] ?? row[i].Span.Trim(), rules[i].Kind == ColumnKind.Numeric ? CellOp.Numeric : CellOp.Text, numbers[i]);
                        }
                    }

                    pipeline.EndRow();
                }

                pipeline.Complete();
            }
            catch (Exception readFailure)
            {
                pipeline.Abandon(readFailure);
                throw;
            }
        }

        var perColumn = rules.Select((r, i) => (r.Column, Counts: new ColumnCleaningCounts(coerced[i], written.Imputed[i], written.Clipped[i])))
            .ToDictionary(p => p.Column, p => p.Counts, StringComparer.Ordinal);
        var counts = new CleaningCounts(raggedDropped, written.Duplicates, missingLabel, trimmedCells, missingTokens,
            coerced.Sum(), written.Imputed.Sum(), written.Clipped.Sum(), perColumn);
        IReadOnlyList<IngestProblem> problems = written.RowsOut == 0
            ? [new IngestProblem("no-rows-left", $"No row survived cleaning ({rowsIn:N0} in: {written.Duplicates:N0} duplicates, {missingLabel:N0} without a label, {raggedDropped:N0} ragged).", [])]
            : [];
        var profile = written.Stats.Select((s, i) => s.ToProfile(rules[i].Kind)).ToList();
        return new CleaningResult(rowsIn, written.RowsOut, counts, profile, problems);
    }

    /// <summary>
    /// The writer stage, batch by batch in row order: drops exact duplicates (by a hash of the normalized values),
    /// imputes missing values, clips numeric outliers, profiles every output cell and writes the row.
    /// </summary>
    private sealed class WriterStage(IReadOnlyList<CleaningRule> rules, long expectedRows)
    {
        public ColumnStats[] Stats { get; } = rules.Select((r, i) => new ColumnStats(r.Column, seed: 31 + i)).ToArray();

        public long[] Imputed { get; } = new long[rules.Count];

        public long[] Clipped { get; } = new long[rules.Count];

        public long RowsOut { get; private set; }

        public long Duplicates { get; private set; }

        private readonly RowHashSet _seen = new(expectedRows);
        private char[] _rowKey = new char[1024];

        /// <summary>Drops the batch's duplicate rows and writes the others, profiled, in order.</summary>
        public void Write(CellBatch batch, SepWriter writer)
        {
            int n = rules.Count;
            for (int first = 0; first < batch.Cells; first += n)
            {
                // The duplicate key: normalized values with a marker after each that also tells missing from empty text.
                int keyLength = 0;
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<char> value = batch.Value(first + i);
                    if (keyLength + value.Length + 1 > _rowKey.Length)
                    {
                        Array.Resize(ref _rowKey, Math.Max(_rowKey.Length * 2, keyLength + value.Length + 1));
                    }

                    value.CopyTo(_rowKey.AsSpan(keyLength));
                    keyLength += value.Length;
                    _rowKey[keyLength++] = batch.Ops[first + i] == CellOp.Missing ? '\u001F' : '\u001E';
                }

                if (!_seen.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(_rowKey.AsSpan(0, keyLength)))))
                {
                    Duplicates++;
                    continue;
                }

                using SepWriter.Row outRow = writer.NewRow();
                for (int i = 0; i < n; i++)
                {
                    outRow[i].Set(Profile(i, batch, first + i));
                }

                RowsOut++;
            }
        }

        /// <summary>Imputes or clips one cell as its rule says, adds it to the output profile, and returns its output text.</summary>
        private ReadOnlySpan<char> Profile(int column, CellBatch batch, int cell)
        {
            CleaningRule rule = rules[column];
            ReadOnlySpan<char> value = batch.Value(cell);
            switch (batch.Ops[cell])
            {
                case CellOp.Missing when rule.ImputeValue is { } fill:
                    Imputed[column]++;
                    Stats[column].Add(fill);
                    return fill;
                case CellOp.Missing:
                    Stats[column].AddMissing();
                    return ReadOnlySpan<char>.Empty;
                case CellOp.Numeric:
                    double number = batch.Numbers[cell];
                    if (number < rule.LowerFence || number > rule.UpperFence)
                    {
                        number = Math.Clamp(number, rule.LowerFence!.Value, rule.UpperFence!.Value);
                        value = CellValues.FormatNumber(number);
                        Clipped[column]++;
                    }

                    Stats[column].AddNumeric(number, value);
                    return value;
                default:
                    Stats[column].Add(value);
                    return value;
            }
        }
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
