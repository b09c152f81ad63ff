using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Lepton.Ingestion;

/// <summary>How the consuming stage treats a cell the reading stage has classified.</summary>
internal enum CellOp : byte
{
    Missing,
    Numeric,
    Text,
}

/// <summary>
/// Classified cells of up to <see cref="RowsPerBatch"/> rows: their text back to back, where each ends, and whether each
/// is missing, numeric (with its number) or other text.
/// </summary>
internal sealed class CellBatch(int columns)
{
    public const int RowsPerBatch = 1024;

    private int _length;

    public char[] Text { get; private set; } = new char[RowsPerBatch * columns * 8];

    public int[] Ends { get; } = new int[RowsPerBatch * columns];

    public double[] Numbers { get; } = new double[RowsPerBatch * columns];

    public CellOp[] Ops { get; } = new CellOp[RowsPerBatch * columns];

    public int Cells { get; private set; }

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

/// <summary>
/// A file pass on two cores in row order: the reading thread decodes, splits and classifies cells into
/// <see cref="Current"/>; a consuming thread takes each full batch (profiles, writes). Batches are recycled, a few in
/// flight, so memory stays bounded. Whichever stage fails first is the error reported, and the other stops:
/// <code>
/// using var pipeline = new CellPipeline(columns, consume);
/// try { ...add rows to pipeline.Current, pipeline.EndRow() after each...; pipeline.Complete(); }
/// catch (Exception e) { pipeline.Abandon(e); throw; }
/// </code>
/// </summary>
internal sealed class CellPipeline : IDisposable
{
    private const int BatchesInFlight = 4;
    private readonly int _columns;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<CellBatch> _full = new(BatchesInFlight);
    private readonly ConcurrentQueue<CellBatch> _empty = new();
    private readonly Task _consuming;

    public CellPipeline(int columns, Action<CellBatch> consume)
    {
        _columns = columns;
        Current = new CellBatch(columns);
        _consuming = Task.Factory.StartNew(() => Consume(consume), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The batch the reading stage fills.</summary>
    public CellBatch Current { get; private set; }

    /// <summary>After a row's cells were added: hands the batch over when it is full.</summary>
    public void EndRow()
    {
        if (Current.Cells >= CellBatch.RowsPerBatch * _columns)
        {
            _full.Add(Current, _stop.Token);
            Current = _empty.TryDequeue(out CellBatch? reused) ? reused : new CellBatch(_columns);
        }
    }

    /// <summary>Hands over the last rows and waits until the consuming stage has taken every batch.</summary>
    public void Complete()
    {
        _full.Add(Current, _stop.Token);
        _full.CompleteAdding();
        _consuming.GetAwaiter().GetResult();
    }

    /// <summary>
    /// The reading stage failed: stops the consumer and waits for it. When the reader only saw the consumer stop (a
    /// cancellation), the consumer's own failure is thrown instead; otherwise the caller rethrows its own.
    /// </summary>
    public void Abandon(Exception readFailure)
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

    private void Consume(Action<CellBatch> consume)
    {
        try
        {
            foreach (CellBatch batch in _full.GetConsumingEnumerable(_stop.Token))
            {
                consume(batch);
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
