using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.ExceptionServices;
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
    private const int RowsPerBatch = 1024;
    private const int BatchesInFlight = 4;

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

        // Two stages on two threads, in row order. This one decodes, splits and normalizes each row and drops ragged
        // rows and rows without a label; the writer drops duplicates, imputes, clips, profiles and writes (see
        // CleanBatch). Batches are recycled, a few in flight; nothing is allocated per cell except normalized timestamps.
        using var stop = new CancellationTokenSource();
        using var full = new BlockingCollection<CleanBatch>(BatchesInFlight);
        var empty = new ConcurrentQueue<CleanBatch>();
        var written = new WriterStage(rules, analysis.DataRows);
        Task writing = Task.Factory.StartNew(() => written.Run(full, empty, output, stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            using TextReader text = CsvFormat.OpenText(source);
            using SepReader reader = CsvFormat.OpenReader(text, separator);
            _ = CsvFormat.ReadHeader(reader);
            CleanBatch batch = empty.TryDequeue(out CleanBatch? reused) ? reused : new CleanBatch(n);
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

                if (batch.Cells >= RowsPerBatch * n)
                {
                    full.Add(batch, stop.Token);
                    batch = empty.TryDequeue(out reused) ? reused : new CleanBatch(n);
                }
            }

            full.Add(batch, stop.Token);
            full.CompleteAdding();
        }
        catch (Exception readFailure)
        {
            // Whichever stage failed first is the error to report: the writer's, when the reader only saw it stop.
            stop.Cancel();
            full.CompleteAdding();
            ((IAsyncResult)writing).AsyncWaitHandle.WaitOne();
            if (readFailure is OperationCanceledException && writing.Exception?.InnerException is { } writeFailure and not OperationCanceledException)
            {
                ExceptionDispatchInfo.Throw(writeFailure);
            }

            throw;
        }

        writing.GetAwaiter().GetResult();
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

        public void Run(BlockingCollection<CleanBatch> full, ConcurrentQueue<CleanBatch> empty, Stream output, CancellationTokenSource stop)
        {
            try
            {
                int n = rules.Count;
                var seen = new RowHashSet(expectedRows);
                char[] rowKey = new char[1024];
                using var writerText = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
                // Curated data is always comma-separated, whatever the source used.
                using (SepWriter writer = Sep.New(',').Writer(o => o with { Escape = true }).To(writerText))
                {
                    writer.Header.Add(rules.Select(r => r.Column).ToArray());
                    foreach (CleanBatch batch in full.GetConsumingEnumerable(stop.Token))
                    {
                        for (int first = 0; first < batch.Cells; first += n)
                        {
                            // The duplicate key: normalized values with a marker after each that also tells missing from empty text.
                            int keyLength = 0;
                            for (int i = 0; i < n; i++)
                            {
                                ReadOnlySpan<char> value = batch.Value(first + i);
                                if (keyLength + value.Length + 1 > rowKey.Length)
                                {
                                    Array.Resize(ref rowKey, Math.Max(rowKey.Length * 2, keyLength + value.Length + 1));
                                }

                                value.CopyTo(rowKey.AsSpan(keyLength));
                                keyLength += value.Length;
                                rowKey[keyLength++] = batch.Ops[first + i] == CellOp.Missing ? '\u001F' : '\u001E';
                            }

                            if (!seen.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(rowKey.AsSpan(0, keyLength)))))
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

                        batch.Clear();
                        empty.Enqueue(batch);
                    }
                }

                writerText.Flush();
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }

        /// <summary>Imputes or clips one cell as its rule says, adds it to the output profile, and returns its output text.</summary>
        private ReadOnlySpan<char> Profile(int column, CleanBatch batch, int cell)
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

    private enum CellOp : byte
    {
        Missing,
        Numeric,
        Text,
    }

    /// <summary>
    /// Normalized cells of up to <see cref="RowsPerBatch"/> rows, handed from the reader to the writer: their text back
    /// to back, where each ends, and whether each is missing, numeric (with its number) or text.
    /// </summary>
    private sealed class CleanBatch(int columns)
    {
        public char[] Text { get; private set; } = new char[RowsPerBatch * columns * 8];

        public int[] Ends { get; } = new int[RowsPerBatch * columns];

        public double[] Numbers { get; } = new double[RowsPerBatch * columns];

        public CellOp[] Ops { get; } = new CellOp[RowsPerBatch * columns];

        public int Cells { get; private set; }

        private int _length;

        /// <summary>The text of one cell: from where the previous cell ended to where this one ends.</summary>
        public ReadOnlySpan<char> Value(int cell)
        {
            int start = cell == 0 ? 0 : Ends[cell - 1];
            return Text.AsSpan(start, Ends[cell] - start);
        }

        public void Add(ReadOnlySpan<char> value, CellOp op, double number)
        {
            if (_length + value.Length > Text.Length)
            {
                char[] grown = new char[Math.Max(Text.Length * 2, _length + value.Length)];
                Text.AsSpan(0, _length).CopyTo(grown);
                Text = grown;
            }

            value.CopyTo(Text.AsSpan(_length));
            _length += value.Length;
            Ends[Cells] = _length;
            Numbers[Cells] = number;
            Ops[Cells++] = op;
        }

        public void Clear() => (Cells, _length) = (0, 0);
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
