using System.Collections.Concurrent;
using System.Globalization;
using Lepton.Ingestion;

namespace Lepton.Tests.Unit.Ingestion;

public class CellPipelineTests
{
    [Fact]
    public void Run_SlowConsumer_EveryRowClassifiedOnceAndConsumedInOrderWithTheReaderHelping()
    {
        // Arrange: a consumer slower than the reader, so the reader classifies batches it has handed over
        const int rows = 20_000;
        var consumed = new List<double>();
        var classifiedBy = new ConcurrentDictionary<int, int>();
        int readerThread = Environment.CurrentManagedThreadId;

        // Act
        using (var pipeline = new CellPipeline(columns: 2, counters: 1, Classify, Consume))
        {
            pipeline.Run(() =>
            {
                for (int row = 0; row < rows; row++)
                {
                    pipeline.Current.Add(row.ToString(CultureInfo.InvariantCulture));
                    pipeline.Current.Add("x");
                    pipeline.EndRow(row + 2);
                }
            });
        }

        // Assert: every row once, in the file's order, each row's classification counted once; both threads classified
        Assert.Equal(Enumerable.Range(0, rows).Select(r => (double)r), consumed);
        Assert.Equal(rows, classifiedBy.Values.Sum());
        Assert.True(classifiedBy.GetValueOrDefault(readerThread) > 0, "the reading thread never classified a batch");
        Assert.Contains(classifiedBy.Keys, thread => thread != readerThread);

        void Classify(CellBatch batch, int from, int to)
        {
            for (int row = from; row < to; row++)
            {
                int cell = row * batch.Columns;
                batch.Numbers[cell] = double.Parse(batch.Raw(cell), CultureInfo.InvariantCulture);
                Interlocked.Increment(ref batch.Counts[0]);
            }

            classifiedBy.AddOrUpdate(Environment.CurrentManagedThreadId, to - from, (_, n) => n + to - from);
        }

        void Consume(CellBatch batch)
        {
            Assert.Equal(batch.Rows, batch.Counts[0]);
            for (int row = 0; row < batch.Rows; row++)
            {
                consumed.Add(batch.Numbers[row * batch.Columns]);
            }

            Thread.Sleep(2);
        }
    }

    [Fact]
    public void Run_ClassifyingFails_ThrowsTheClassifiersErrorInsteadOfHanging()
    {
        // Arrange: classifying fails on one row, whichever thread classifies it
        using var pipeline = new CellPipeline(columns: 1, counters: 0, Classify, _ => Thread.Sleep(1));

        // Act
        var error = Assert.Throws<FormatException>(() => pipeline.Run(() =>
        {
            for (int row = 0; row < 50_000; row++)
            {
                pipeline.Current.Add(row == 30_000 ? "not a number" : "1");
                pipeline.EndRow(row + 2);
            }
        }));

        // Assert
        Assert.Contains("not a number", error.Message);

        static void Classify(CellBatch batch, int from, int to)
        {
            for (int cell = from; cell < to; cell++)
            {
                if (!double.TryParse(batch.Raw(cell), CultureInfo.InvariantCulture, out batch.Numbers[cell]))
                {
                    throw new FormatException($"'{batch.Raw(cell)}' is not a number");
                }
            }
        }
    }

    [Fact]
    public void CellBatch_WideFile_HoldsNoMoreCellsThanANarrowOneCould()
    {
        // A 2,000-column file must not make every batch in flight 2,000 times larger: a batch holds at most 16,384 cells.
        var wide = new CellBatch(columns: 2_000, counters: 0);
        var narrow = new CellBatch(columns: 12, counters: 0);

        Assert.InRange(wide.RowCapacity * 2_000, 2_000, 16_384);
        Assert.InRange(narrow.RowCapacity * 12, 2_000, 16_384);
    }
}
