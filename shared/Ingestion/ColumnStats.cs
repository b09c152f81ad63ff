namespace Lepton.Ingestion;

/// <summary>
/// Streaming statistics of one column: counts, type evidence, moments, a bounded distinct-value table
/// and a fixed-size reservoir sample for quantiles. Memory stays bounded whatever the file size.
/// </summary>
public sealed class ColumnStats
{
    public const int DistinctCap = 1000;
    public const int ReservoirSize = 10_000;
    public const int HistogramBins = 12;
    private const int TopValueCount = 5;

    private readonly Dictionary<string, long> _distinct = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _distinctLookup;
    private readonly double[] _reservoir = new double[ReservoirSize];
    private readonly Random _random;
    private long _numericSeen;
    private long _dateMisses;
    private double _weight;
    private long _nextReplacement;
    private double _mean;
    private double _m2;

    public ColumnStats(string name, int seed)
    {
        Name = name;
        _random = new Random(seed);
        _distinctLookup = _distinct.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Name { get; }

    public long Count { get; private set; }

    public long Missing { get; private set; }

    public long NumericCount { get; private set; }

    public long BooleanCount { get; private set; }

    public long DateTimeCount { get; private set; }

    public bool DistinctOverflow { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public long NonMissing => Count - Missing;

    public int DistinctTracked => _distinct.Count;

    /// <summary>The distinct values as written, while they are at most <see cref="DistinctCap"/>; null after that.</summary>
    public IReadOnlyCollection<string>? DistinctValues => DistinctOverflow ? null : _distinct.Keys;

    /// <summary>Adds one trimmed cell; missing tokens count as missing.</summary>
    public void Add(ReadOnlySpan<char> trimmed) => Add(CellValues.Kind(trimmed, out double number), number, trimmed);

    /// <summary>Adds a cell already classified by <see cref="CellValues.Kind"/>.</summary>
    internal void Add(CellOp kind, double number, ReadOnlySpan<char> trimmed)
    {
        switch (kind)
        {
            case CellOp.Missing:
                AddMissing();
                break;
            case CellOp.Numeric:
                AddNumeric(number, trimmed);
                break;
            default:
                AddOther(trimmed);
                break;
        }
    }

    /// <summary>Adds a present cell known not to be a number: evidence for booleans and timestamps.</summary>
    public void AddOther(ReadOnlySpan<char> trimmed)
    {
        Count++;
        CountDistinct(trimmed);
        if (CellValues.TryParseBoolean(trimmed, out _))
        {
            BooleanCount++;
        }
        else if (_dateMisses <= (NonMissing / 20) + 1)
        {
            // Date parsing is costly: stop trying once misses show it is not a date column.
            if (CellValues.TryParseDateTime(trimmed, out _))
            {
                DateTimeCount++;
            }
            else
            {
                _dateMisses++;
            }
        }
    }

    /// <summary>Adds a value already known to be numeric.</summary>
    public void AddNumeric(double number, ReadOnlySpan<char> text)
    {
        Count++;
        CountDistinct(text);
        NumericCount++;
        AddNumber(number);
    }

    public void AddMissing()
    {
        Count++;
        Missing++;
    }

    /// <summary>
    /// Exact counts until the table holds <see cref="DistinctCap"/> values; after that the distinct count is a lower bound,
    /// top values describe the values seen until then, and no more lookups are spent on the column.
    /// </summary>
    private void CountDistinct(ReadOnlySpan<char> value)
    {
        if (DistinctOverflow)
        {
            return;
        }

        if (_distinctLookup.TryGetValue(value, out long seen))
        {
            _distinctLookup[value] = seen + 1;
        }
        else if (_distinct.Count < DistinctCap)
        {
            _distinct.Add(value.ToString(), 1);
        }
        else
        {
            DistinctOverflow = true;
        }
    }

    private void AddNumber(double number)
    {
        _numericSeen++;
        double delta = number - _mean;
        _mean += delta / _numericSeen;
        _m2 += delta * (number - _mean);
        if (number < Min)
        {
            Min = number;
        }

        if (number > Max)
        {
            Max = number;
        }

        // Reservoir sampling, Li's Algorithm L: instead of a random draw per value, draw how many values to skip.
        if (_numericSeen <= ReservoirSize)
        {
            _reservoir[_numericSeen - 1] = number;
            if (_numericSeen == ReservoirSize)
            {
                _weight = Math.Exp(Math.Log(_random.NextDouble()) / ReservoirSize);
                _nextReplacement = _numericSeen + Skip();
            }
        }
        else if (_numericSeen == _nextReplacement)
        {
            _reservoir[_random.Next(ReservoirSize)] = number;
            _weight *= Math.Exp(Math.Log(_random.NextDouble()) / ReservoirSize);
            _nextReplacement += Skip();
        }
    }

    private long Skip() => (long)Math.Floor(Math.Log(1 - _random.NextDouble()) / Math.Log(1 - _weight)) + 1;

    /// <summary>Quantile of the numeric values (exact up to the reservoir size, estimated beyond).</summary>
    public double? Quantile(double q)
    {
        int n = (int)Math.Min(_numericSeen, ReservoirSize);
        if (n == 0)
        {
            return null;
        }

        double[] sorted = _reservoir[..n];
        Array.Sort(sorted);
        double position = q * (n - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, n - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }

    public string? Mode() => _distinct.Count == 0 ? null : _distinct.MaxBy(p => p.Value).Key;

    public IReadOnlyList<ValueCount> TopValues() =>
        _distinct.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(TopValueCount)
            .Select(p => new ValueCount(p.Key, p.Value)).ToList();

    public ColumnProfile ToProfile(ColumnKind kind)
    {
        bool numeric = kind == ColumnKind.Numeric && _numericSeen > 0;
        return new ColumnProfile(
            Name,
            kind,
            Count,
            Missing,
            _distinct.Count,
            DistinctOverflow,
            numeric ? Min : null,
            numeric ? Max : null,
            numeric ? _mean : null,
            numeric ? (_numericSeen > 1 ? Math.Sqrt(_m2 / (_numericSeen - 1)) : 0) : null,
            numeric ? Quantile(0.5) : null,
            TopValues(),
            numeric ? Histogram() : null);
    }

    /// <summary>
    /// Equal-width bins between the exact min and max, counted on the reservoir: exact up to <see cref="ReservoirSize"/>
    /// values, and beyond that the sample's shape scaled to the column's count (bins then sum to the count within rounding).
    /// </summary>
    public IReadOnlyList<HistogramBin> Histogram(int bins = HistogramBins)
    {
        int n = (int)Math.Min(_numericSeen, ReservoirSize);
        if (n == 0)
        {
            return [];
        }

        double width = (Max - Min) / bins;
        if (!(width > 0) || double.IsInfinity(width))
        {
            return [new HistogramBin(Min, Max, _numericSeen)];
        }

        var counts = new long[bins];
        foreach (double value in _reservoir.AsSpan(0, n))
        {
            counts[Math.Clamp((int)((value - Min) / width), 0, bins - 1)]++;
        }

        double scale = (double)_numericSeen / n;
        return counts.Select((c, i) => new HistogramBin(Min + (i * width), i == bins - 1 ? Max : Min + ((i + 1) * width), (long)Math.Round(c * scale))).ToList();
    }
}
