using System.IO.Hashing;
using System.Runtime.InteropServices;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>
/// Pass two: streams the source again and writes the curated rows. Rules, in order: drop ragged rows,
/// trim cells, normalize missing tokens, coerce values to the column's type (invalid ones become missing),
/// drop rows without a label, drop exact duplicate rows, impute missing values, clip numeric outliers to the
/// IQR fences. Every change is counted; the output is profiled as it is written. The pass runs on two threads
/// (<see cref="CellPipeline"/>); the output and its profile are the same as one thread's.
/// </summary>
public sealed class DatasetCleaner
{
    public CleaningResult Clean(Stream source, Stream output, SourceAnalysis analysis)
    {
        IReadOnlyList<CleaningRule> rules = analysis.Rules;
        int n = rules.Count;
        long rowsIn = 0, raggedDropped = 0, trimmedCells = 0;
        char separator = analysis.Separator[0];

        // The reading thread decodes, splits and trims; classifying (types, missing values, duplicate keys, imputing,
        // clipping, formatting) goes to whichever thread is free; the writer drops duplicates, profiles and writes, in
        // row order. Nothing is allocated per cell except normalized timestamps and clipped numbers.
        var classifier = new Classifier(rules);
        var written = new WriterStage(rules, analysis.DataRows, output);
        using (var pipeline = new CellPipeline(n, Classifier.Counters(n), classifier.Classify, written.Write) { DecimalComma = CellValues.AllowsDecimalComma(separator) })
        {
            pipeline.Run(() =>
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

                    trimmedCells += pipeline.AddRow(row);
                }
            });
        }

        written.Flush();
        long[] totals = written.Counts;
        var perColumn = rules.Select((r, i) => (r.Column, Counts: new ColumnCleaningCounts(totals[i], written.Imputed[i], written.Clipped[i])))
            .ToDictionary(p => p.Column, p => p.Counts, StringComparer.Ordinal);
        long missingLabel = totals[Classifier.MissingLabelCounter(n)];
        var counts = new CleaningCounts(raggedDropped, written.Duplicates, missingLabel, trimmedCells, totals[Classifier.MissingTokenCounter(n)],
            totals.Take(n).Sum(), written.Imputed.Sum(), written.Clipped.Sum(), perColumn);
        IReadOnlyList<IngestProblem> problems = written.RowsOut == 0
            ? [new IngestProblem("no-rows-left", $"No row survived cleaning ({rowsIn:N0} in: {written.Duplicates:N0} duplicates, {missingLabel:N0} without a label, {raggedDropped:N0} ragged).", [])]
            : [];
        var profile = written.Stats.Select((s, i) => s.ToProfile(rules[i].Kind)).ToList();
        return new CleaningResult(rowsIn, written.RowsOut, counts, profile, problems);
    }

    /// <summary>
    /// Everything about a row that does not depend on the rows before it, for a range of a batch's rows: classifies the
    /// cells for their columns' kinds, marks rows without a label, keys the others for duplicate detection (a hash of the
    /// normalized values, with a marker after each that also tells missing from empty text), imputes, clips, and formats
    /// the output row. Either thread may run it; what depends on order (duplicates, profile, counts of what was written)
    /// is left to the <see cref="WriterStage"/>.
    /// </summary>
    private sealed class Classifier
    {
        [ThreadStatic]
        private static char[]? t_rowKey;

        [ThreadStatic]
        private static CsvRowWriter? t_row;

        private readonly CleaningRule[] _rules;
        private readonly CellOp[] _fillOps;
        private readonly double[] _fillNumbers;

        public Classifier(IReadOnlyList<CleaningRule> rules)
        {
            _rules = [.. rules];
            _fillOps = new CellOp[_rules.Length];
            _fillNumbers = new double[_rules.Length];
            for (int i = 0; i < _rules.Length; i++)
            {
                if (_rules[i].ImputeValue is { } fill)
                {
                    _fillOps[i] = CellValues.Kind(fill, out _fillNumbers[i]);
                }
            }
        }

        /// <summary>Per batch: invalid values coerced to missing for each column, then missing tokens, then rows without a label.</summary>
        public static int Counters(int columns) => columns + 2;

        public static int MissingTokenCounter(int columns) => columns;

        public static int MissingLabelCounter(int columns) => columns + 1;

        public void Classify(CellBatch batch, int fromRow, int toRow)
        {
            int n = _rules.Length;
            char[] key = t_rowKey ??= new char[1024];
            CsvRowWriter output = t_row ??= new CsvRowWriter();
            int chunk = fromRow / CellBatch.ChunkRows;
            byte[] rendered = batch.Rendered[chunk] ??= new byte[16_384];
            int renderedLength = 0;
            long missingTokens = 0, missingLabel = 0;
            for (int row = fromRow, first = fromRow * n; row < toRow; row++, first += n)
            {
                bool labelMissing = false;
                for (int i = 0; i < n; i++)
                {
                    int cell = first + i;
                    CellOutcome outcome = Normalize(_rules[i].Kind, batch.Raw(cell), out batch.Canonical[cell], out batch.Numbers[cell]);
                    bool missing = outcome != CellOutcome.Present;
                    batch.Ops[cell] = missing ? CellOp.Missing : _rules[i].Kind == ColumnKind.Numeric ? CellOp.Numeric : CellOp.Text;
                    if (outcome == CellOutcome.MissingToken)
                    {
                        missingTokens++;
                    }
                    else if (outcome == CellOutcome.Invalid)
                    {
                        // Rare: both threads may be classifying rows of this batch.
                        Interlocked.Increment(ref batch.Counts[i]);
                    }

                    labelMissing |= missing && _rules[i].IsLabel;
                }

                if (labelMissing)
                {
                    batch.Dropped[row] = true;
                    batch.RenderedEnds[row] = renderedLength;
                    missingLabel++;
                    continue;
                }

                batch.Keys[row] = Key(batch, first, ref key);
                for (int i = 0; i < n; i++)
                {
                    Clean(batch, first + i, i);
                    output.Cell(batch.Value(first + i));
                }

                output.EndRow(ref rendered, ref renderedLength);
                batch.RenderedEnds[row] = renderedLength;
            }

            batch.Rendered[chunk] = rendered;
            Interlocked.Add(ref batch.Counts[MissingTokenCounter(n)], missingTokens);
            Interlocked.Add(ref batch.Counts[MissingLabelCounter(n)], missingLabel);
        }

        private ulong Key(CellBatch batch, int first, ref char[] key)
        {
            int keyLength = 0;
            for (int i = 0; i < _rules.Length; i++)
            {
                bool missing = batch.Ops[first + i] == CellOp.Missing;
                ReadOnlySpan<char> value = missing ? [] : batch.Value(first + i);
                if (keyLength + value.Length + 1 > key.Length)
                {
                    Array.Resize(ref key, Math.Max(key.Length * 2, keyLength + value.Length + 1));
                    t_rowKey = key;
                }

                value.CopyTo(key.AsSpan(keyLength));
                keyLength += value.Length;
                key[keyLength++] = missing ? '\u001F' : '\u001E';
            }

            return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan(0, keyLength)));
        }

        /// <summary>
        /// Imputes or clips one classified cell as its rule says and leaves what the output profile adds: its op (with
        /// <see cref="CellOp.Imputed"/> or <see cref="CellOp.Clipped"/>), its number, its output text.
        /// </summary>
        private void Clean(CellBatch batch, int cell, int column)
        {
            CleaningRule rule = _rules[column];
            switch (batch.Ops[cell])
            {
                case CellOp.Missing when rule.ImputeValue is { } fill:
                    batch.Canonical[cell] = fill;
                    batch.Numbers[cell] = _fillNumbers[column];
                    batch.Ops[cell] = _fillOps[column] | CellOp.Imputed;
                    break;
                case CellOp.Missing:
                    batch.Canonical[cell] = string.Empty;
                    break;
                case CellOp.Numeric:
                    double number = batch.Numbers[cell];
                    if (number < rule.LowerFence || number > rule.UpperFence)
                    {
                        number = Math.Clamp(number, rule.LowerFence!.Value, rule.UpperFence!.Value);
                        batch.Numbers[cell] = number;
                        batch.Canonical[cell] = CellValues.FormatNumber(number);
                        batch.Ops[cell] = CellOp.Numeric | CellOp.Clipped;
                    }

                    break;
                default:
                    // The output profile counts a categorical value that reads as a number as a number, as it always has.
                    batch.Ops[cell] = CellValues.Kind(batch.Value(cell), out batch.Numbers[cell]);
                    break;
            }
        }
    }

    /// <summary>
    /// The writer stage, batch by batch in row order: drops exact duplicates (by their keys), profiles every output
    /// cell, counts what was imputed and clipped, and writes the rows the classifier formatted.
    /// </summary>
    private sealed class WriterStage
    {
        private readonly IReadOnlyList<CleaningRule> _rules;
        private readonly Stream _output;
        private readonly RowHashSet _seen;
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _buffered;

        public WriterStage(IReadOnlyList<CleaningRule> rules, long expectedRows, Stream output)
        {
            (_rules, _output, _seen) = (rules, output, new RowHashSet(expectedRows));
            Stats = rules.Select((r, i) => new ColumnStats(r.Column, seed: 31 + i)).ToArray();
            (Imputed, Clipped, Counts) = (new long[rules.Count], new long[rules.Count], new long[Classifier.Counters(rules.Count)]);
            Put(CsvRowWriter.Format(rules.Select(r => r.Column)));
        }

        public ColumnStats[] Stats { get; }

        public long[] Imputed { get; }

        public long[] Clipped { get; }

        /// <summary>The classifier's counters, summed over every batch.</summary>
        public long[] Counts { get; }

        public long RowsOut { get; private set; }

        public long Duplicates { get; private set; }

        /// <summary>Drops the batch's duplicate rows and writes the others, profiled, in order.</summary>
        public void Write(CellBatch batch)
        {
            int n = _rules.Count;
            for (int c = 0; c < Counts.Length; c++)
            {
                Counts[c] += batch.Counts[c];
            }

            for (int row = 0; row < batch.Rows; row++)
            {
                _seen.Prefetch(batch.Keys[row]);
            }

            for (int row = 0, first = 0; row < batch.Rows; row++, first += n)
            {
                if (batch.Dropped[row])
                {
                    continue;
                }

                if (!_seen.Add(batch.Keys[row]))
                {
                    Duplicates++;
                    continue;
                }

                for (int i = 0; i < n; i++)
                {
                    Profile(batch, first + i, i);
                }

                Put(batch.RenderedRow(row));
                RowsOut++;
            }
        }

        public void Flush()
        {
            _output.Write(_buffer, 0, _buffered);
            _buffered = 0;
            _output.Flush();
        }

        private void Profile(CellBatch batch, int cell, int column)
        {
            CellOp op = batch.Ops[cell];
            if ((op & CellOp.Imputed) != 0)
            {
                Imputed[column]++;
            }
            else if ((op & CellOp.Clipped) != 0)
            {
                Clipped[column]++;
            }

            Stats[column].Add(op & (CellOp.Numeric | CellOp.Text), batch.Numbers[cell], batch.Value(cell));
        }

        private void Put(ReadOnlySpan<byte> bytes)
        {
            if (_buffered + bytes.Length > _buffer.Length)
            {
                _output.Write(_buffer, 0, _buffered);
                _buffered = 0;
                if (bytes.Length > _buffer.Length)
                {
                    _output.Write(bytes);
                    return;
                }
            }

            bytes.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += bytes.Length;
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
