using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>
/// What a classified cell is; <see cref="Formula"/> marks a cell that a spreadsheet would run, <see cref="Imputed"/>
/// and <see cref="Clipped"/> a cell that cleaning filled in or moved to a fence.
/// </summary>
[Flags]
internal enum CellOp : byte
{
    Missing = 0,
    Numeric = 1,
    Text = 2,
    Formula = 4,
    Imputed = 8,
    Clipped = 16,
}

/// <summary>
/// Up to <see cref="RowCapacity"/> rows of a file pass: the reading stage adds each row's trimmed cells (their text back to
/// back, where each ends) and its line number; the classifying step fills in what each cell is (<see cref="Ops"/>, with
/// its number or its canonical text) and per row whether it is dropped and its duplicate key; counts are the step's own.
/// </summary>
internal sealed class CellBatch
{
    /// <summary>At most this many cells a batch, so a wide file's batches stay as small as a narrow one's.</summary>
    private const int CellCapacity = 16_384;

    private const int MaxRows = 1024;

    /// <summary>Rows are classified in ranges of this many, so that both threads can work on one batch.</summary>
    public const int ChunkRows = 64;

    private int _length;
    private int _pending;

    public CellBatch(int columns, int counters)
    {
        Columns = columns;
        RowCapacity = Math.Clamp(CellCapacity / Math.Max(columns, 1), 1, MaxRows);
        int cells = RowCapacity * columns;
        Text = new char[cells * 8];
        Ends = new int[cells];
        Numbers = new double[cells];
        Ops = new CellOp[cells];
        Canonical = new string?[cells];
        Lines = new int[RowCapacity];
        Dropped = new bool[RowCapacity];
        Keys = new ulong[RowCapacity];
        Rendered = new byte[(RowCapacity + ChunkRows - 1) / ChunkRows][];
        RenderedEnds = new int[RowCapacity];
        Counts = new long[counters];
    }

    public int Columns { get; }

    public int RowCapacity { get; }

    public char[] Text { get; private set; }

    public int[] Ends { get; }

    public double[] Numbers { get; }

    public CellOp[] Ops { get; }

    /// <summary>
    /// A cell's text where it differs from what the file had: canonical booleans and timestamps, and once cleaned, imputed
    /// and clipped values and the empty text of a missing one; null otherwise.
    /// </summary>
    public string?[] Canonical { get; }

    public int[] Lines { get; }

    public bool[] Dropped { get; }

    public ulong[] Keys { get; }

    /// <summary>Output bytes of each range of <see cref="ChunkRows"/> rows, where a pass writes rows, grown as needed and kept for reuse.</summary>
    public byte[]?[] Rendered { get; }

    /// <summary>Where each row's output ends in its range's <see cref="Rendered"/> buffer.</summary>
    public int[] RenderedEnds { get; }

    /// <summary>Counters of the classifying step, summed over batches by the consuming stage.</summary>
    public long[] Counts { get; }

    public int Rows { get; private set; }

    public int Cells => Rows * Columns;

    /// <summary>How many row ranges of the batch either thread has claimed for classifying, and finished (see <see cref="CellPipeline"/>).</summary>
    internal int ChunksClaimed, ChunksDone;

    /// <summary>1 while the reading thread may still touch a batch it handed over: the batch is not recycled before.</summary>
    internal int HeldByReader;

    internal int Chunks => (Rows + ChunkRows - 1) / ChunkRows;

    internal ExceptionDispatchInfo? Failure;

    /// <summary>The cell's text as the file had it, trimmed.</summary>
    public ReadOnlySpan<char> Raw(int cell)
    {
        int start = cell == 0 ? 0 : Ends[cell - 1];
        return Text.AsSpan(start, Ends[cell] - start);
    }

    /// <summary>The cell's text as normalized (or cleaned): its <see cref="Canonical"/> text where it has one, its own otherwise.</summary>
    public ReadOnlySpan<char> Value(int cell) => Canonical[cell] is { } canonical ? canonical : Raw(cell);

    /// <summary>One row's output bytes, from its range's <see cref="Rendered"/> buffer.</summary>
    public ReadOnlySpan<byte> RenderedRow(int row)
    {
        int start = row % ChunkRows == 0 ? 0 : RenderedEnds[row - 1];
        return Rendered[row / ChunkRows].AsSpan(start, RenderedEnds[row] - start);
    }

    /// <summary>The reading stage's step: one trimmed cell of the current row.</summary>
    public void Add(ReadOnlySpan<char> value)
    {
        if (_length + value.Length > Text.Length)
        {
            char[] text = Text;
            Array.Resize(ref text, Math.Max(text.Length * 2, _length + value.Length));
            Text = text;
        }

        value.CopyTo(Text.AsSpan(_length));
        _length += value.Length;
        Ends[(Rows * Columns) + _pending++] = _length;
    }

    /// <summary>Closes the current row; true when the batch is full.</summary>
    public bool EndRow(int line)
    {
        Lines[Rows++] = line;
        _pending = 0;
        return Rows == RowCapacity;
    }

    public void Clear()
    {
        Array.Clear(Canonical, 0, Cells);
        Array.Clear(Dropped, 0, Rows);
        Array.Clear(Counts);
        (Rows, _length, _pending, ChunksClaimed, ChunksDone, Failure) = (0, 0, 0, 0, 0, null);
    }
}

/// <summary>
/// A file pass on two cores in row order. The reading thread decodes, splits and trims rows into
/// <see cref="Current"/>; a consuming thread takes each full batch in order (profiles, writes). Classifying the cells —
/// parsing numbers, the costly part — depends on nothing but the batch, so either thread does it: the consumer for the
/// batch it reaches, the reader for the batch it just handed over whenever the consumer is behind, both together in
/// ranges of rows when they meet on one batch, which keeps both cores busy whichever stage is the heavier. Counters
/// the classifying step keeps in the batch are added with <see cref="Interlocked"/>. The output is the same as one thread's. Batches are recycled, a few in
/// flight, so memory stays bounded. Whichever stage fails first is the error reported, and the other stops:
/// <code>
/// using var pipeline = new CellPipeline(columns, counters, classify, consume);
/// pipeline.Run(() => { foreach (row in reader) { ...pipeline.AddRow(row)... } });
/// </code>
/// </summary>
internal sealed class CellPipeline : IDisposable
{
    private const int BatchesInFlight = 6;
    private readonly int _columns, _counters;
    private readonly Action<CellBatch, int, int> _classify;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<CellBatch> _full = new(BatchesInFlight);
    private readonly ConcurrentQueue<CellBatch> _empty = new();
    private readonly Task _consuming;

    /// <param name="classify">Classifies the rows [from, to) of a batch; may run on both threads at once for different rows.</param>
    public CellPipeline(int columns, int counters, Action<CellBatch, int, int> classify, Action<CellBatch> consume)
    {
        (_columns, _counters, _classify) = (columns, counters, classify);
        Current = new CellBatch(columns, counters);
        _consuming = Task.Factory.StartNew(() => Consume(consume), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The batch the reading stage fills.</summary>
    public CellBatch Current { get; private set; }

    /// <summary>
    /// Runs the reading stage on this thread (<paramref name="read"/> adds the rows), then waits until the consuming
    /// stage has taken every batch. The first failure of either stage is thrown, and the other stage stops.
    /// </summary>
    public void Run(Action read)
    {
        try
        {
            read();
            _full.Add(Current, _stop.Token);
            _full.CompleteAdding();
            _consuming.GetAwaiter().GetResult();
        }
        catch (Exception readFailure)
        {
            Abandon(readFailure);
            throw;
        }
    }

    /// <summary>
    /// Whether a number's comma is its decimal mark (<see cref="CellValues.AllowsDecimalComma"/>): such cells are added
    /// with a decimal point, so every later step — types, statistics, the curated file — reads them as numbers.
    /// </summary>
    public bool DecimalComma { get; init; }

    /// <summary>Adds a row's cells, trimmed, and hands the batch over when it is full; returns how many cells had spaces trimmed.</summary>
    public int AddRow(SepReader.Row row)
    {
        int trimmed = 0;
        CellBatch batch = Current;
        Span<char> number = stackalloc char[CellValues.MaxNumberChars];
        for (int i = 0; i < row.ColCount; i++)
        {
            ReadOnlySpan<char> raw = row[i].Span;
            ReadOnlySpan<char> cell = raw.Trim();
            trimmed += cell.Length != raw.Length ? 1 : 0;
            batch.Add(DecimalComma && CellValues.TryWithDecimalPoint(cell, number, out int length) ? number[..length] : cell);
        }

        EndRow(row.LineNumberFrom);
        return trimmed;
    }

    /// <summary>After a row's cells were added: hands the batch over when it is full.</summary>
    public void EndRow(int line)
    {
        if (!Current.EndRow(line))
        {
            return;
        }

        CellBatch full = Current;
        full.HeldByReader = 1;
        _full.Add(full, _stop.Token);
        try
        {
            Current = _empty.TryDequeue(out CellBatch? reused) ? reused : new CellBatch(_columns, _counters);
            if (_full.Count >= 2)
            {
                // The consumer is behind: this thread classifies the newest batch, the one the consumer reaches last.
                ClassifyShare(full);
            }
        }
        finally
        {
            // Until here this thread may still claim (and find no) ranges of the batch: the consumer must not recycle it
            // before, or a claim would land on the batch's next use.
            Volatile.Write(ref full.HeldByReader, 0);
        }
    }

    /// <summary>
    /// The reading stage failed: stops the consumer and waits for it. When the reader only saw the consumer stop (a
    /// cancellation), the consumer's own failure is thrown instead; otherwise the caller rethrows its own.
    /// </summary>
    private void Abandon(Exception readFailure)
    {
        _stop.Cancel();
        _full.CompleteAdding();
        ((IAsyncResult)_consuming).AsyncWaitHandle.WaitOne();
        if (readFailure is OperationCanceledException && _consuming.Exception?.InnerException is { } consumeFailure and not OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(consumeFailure);
        }
    }

    public void Dispose()
    {
        if (!_consuming.IsCompleted)
        {
            _stop.Cancel();
            ((IAsyncResult)_consuming).AsyncWaitHandle.WaitOne();
        }

        _full.Dispose();
        _stop.Dispose();
    }

    /// <summary>Classifies ranges of the batch's rows that no thread has claimed yet; a failure is kept for the consumer to throw.</summary>
    private void ClassifyShare(CellBatch batch)
    {
        int chunks = batch.Chunks;
        for (int chunk = Interlocked.Increment(ref batch.ChunksClaimed) - 1; chunk < chunks; chunk = Interlocked.Increment(ref batch.ChunksClaimed) - 1)
        {
            try
            {
                _classify(batch, chunk * CellBatch.ChunkRows, Math.Min((chunk + 1) * CellBatch.ChunkRows, batch.Rows));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref batch.Failure, ExceptionDispatchInfo.Capture(e), null);
            }

            Interlocked.Increment(ref batch.ChunksDone);
        }
    }

    private static void SpinUntil(Func<bool> condition)
    {
        var wait = new SpinWait();
        while (!condition())
        {
            wait.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void Consume(Action<CellBatch> consume)
    {
        try
        {
            foreach (CellBatch batch in _full.GetConsumingEnumerable(_stop.Token))
            {
                ClassifyShare(batch);
                // The reader may be finishing a range of this batch: tens of microseconds, not worth a sleep.
                SpinUntil(() => Volatile.Read(ref batch.ChunksDone) >= batch.Chunks);
                batch.Failure?.Throw();
                consume(batch);
                SpinUntil(() => Volatile.Read(ref batch.HeldByReader) == 0);
                batch.Clear();
                _empty.Enqueue(batch);
            }
        }
        catch
        {
            _stop.Cancel();
            throw;
        }
    }
}
