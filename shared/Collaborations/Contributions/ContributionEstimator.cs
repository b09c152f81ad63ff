namespace Lepton.Collaborations.Contributions;

/// <summary>
/// When to stop sampling: at <see cref="MaxSamples"/> permutation pairs (Shapley) or coalitions (Banzhaf), or once every
/// member's 95% confidence half-width is at most <see cref="HalfWidth"/> times v(N) − v(∅) (0.01: about one point of share)
/// after <see cref="MinSamples"/>.
/// <see cref="Truncation"/>: a permutation stops evaluating once its prefix is within this fraction of v(N) − v(∅) of
/// v(N) (later members then add nothing); 0 turns truncation off.
/// </summary>
public sealed record SamplingOptions(int MaxSamples, double HalfWidth, double Truncation, int BatchSize = 8, int MinSamples = 8);

/// <summary>Values per player, with standard errors when sampled.</summary>
public sealed record EstimatedValues(double[] Values, double[]? StandardErrors, bool Exact, int? Samples, bool? Converged);

/// <summary>
/// Computes contribution values by method. The utility of coalitions comes from <c>evaluate</c>, which is asked for batches
/// of coalitions (bit masks) and returns their utilities: in a contribution run it fans out durable activities; to verify
/// a report it reads the stored coalition table; in tests it is a closed-form game. The same code therefore produces and
/// re-checks every report, and it is deterministic (a seeded generator, ordered batches), so orchestrators may run it.
/// </summary>
public static class ContributionEstimator
{
    /// <summary>Up to this many players, Shapley and Banzhaf are exact (2^n coalitions); beyond, they are sampled.</summary>
    public const int ExactLimit = 10;

    /// <summary>The exact limit when a coalition costs an evaluation, not a training (contributions of federated models).</summary>
    public const int ExactLimitWithoutTraining = 12;

    private const double Z95 = 1.959963984540054;

    public delegate Task<IReadOnlyDictionary<ulong, double>> Evaluate(IReadOnlyList<ulong> coalitions);

    /// <param name="exactLimit">Up to this many players Shapley and Banzhaf are exact (federated runs, whose coalitions cost no training, allow more).</param>
    public static async Task<EstimatedValues> ComputeAsync(
        string method, int n, IReadOnlyList<long> rows, ulong seed, SamplingOptions options, Evaluate evaluate, int exactLimit = ExactLimit)
    {
        switch (method)
        {
            case AllocationMethods.Proportional:
                return new EstimatedValues(rows.Select(r => (double)r).ToArray(), null, true, null, null);
            case AllocationMethods.LeaveOneOut:
            {
                IReadOnlyDictionary<ulong, double> v = await evaluate(GameValues.LeaveOneOutCoalitions(n).Prepend(0UL).ToList());
                return new EstimatedValues(GameValues.LeaveOneOut(n, m => v[m]), null, true, null, null);
            }
            case AllocationMethods.Shapley when n <= exactLimit:
            {
                IReadOnlyDictionary<ulong, double> v = await evaluate(Coalitions.All(n).ToList());
                return new EstimatedValues(GameValues.Shapley(n, m => v[m]), null, true, null, null);
            }
            case AllocationMethods.Banzhaf when n <= exactLimit:
            {
                IReadOnlyDictionary<ulong, double> v = await evaluate(Coalitions.All(n).ToList());
                return new EstimatedValues(GameValues.Banzhaf(n, m => v[m]), null, true, null, null);
            }
            case AllocationMethods.Shapley:
                return await SampleShapleyAsync(n, seed, options, evaluate);
            case AllocationMethods.Banzhaf:
                return await SampleBanzhafAsync(n, seed, options, evaluate);
            default:
                throw new ArgumentException($"Unknown contribution method '{method}'.", nameof(method));
        }
    }

    /// <summary>
    /// Permutation sampling in antithetic pairs (an order and its reverse), with truncation. Each pair's average marginal
    /// contribution is one sample, so the standard error is that of a mean of independent samples.
    /// </summary>
    public static async Task<EstimatedValues> SampleShapleyAsync(int n, ulong seed, SamplingOptions options, Evaluate evaluate)
    {
        ulong grand = Coalitions.Grand(n);
        var known = new Dictionary<ulong, double>(await evaluate([0UL, grand]));
        double empty = known[0UL], full = known[grand];
        double cutoff = options.Truncation * Math.Abs(full - empty);
        double halfWidth = options.HalfWidth * Math.Abs(full - empty);
        var random = new SplitMix64(seed);
        var stats = Enumerable.Range(0, n).Select(_ => new RunningMean()).ToArray();
        int pairs = 0;
        bool converged = false;
        while (pairs < options.MaxSamples && !converged)
        {
            int batch = Math.Min(options.BatchSize, options.MaxSamples - pairs);
            var orders = new List<int[]>(batch * 2);
            for (int b = 0; b < batch; b++)
            {
                int[] order = random.Permutation(n);
                orders.Add(order);
                orders.Add(order.Reverse().ToArray());
            }

            double[][] marginals = orders.Select(_ => new double[n]).ToArray();
            ulong[] prefix = new ulong[orders.Count];
            double[] previous = Enumerable.Repeat(empty, orders.Count).ToArray();
            bool[] truncated = new bool[orders.Count];
            // One wave per position: every order's next prefix is evaluated together, so a batch costs n fan-outs at most.
            for (int position = 0; position < n; position++)
            {
                for (int o = 0; o < orders.Count; o++)
                {
                    truncated[o] |= cutoff > 0 && position > 0 && Math.Abs(full - previous[o]) <= cutoff;
                    prefix[o] |= 1UL << orders[o][position];
                }

                List<ulong> needed = Enumerable.Range(0, orders.Count).Where(o => !truncated[o]).Select(o => prefix[o])
                    .Where(m => !known.ContainsKey(m)).Distinct().ToList();
                if (needed.Count > 0)
                {
                    foreach ((ulong mask, double value) in await evaluate(needed))
                    {
                        known[mask] = value;
                    }
                }

                for (int o = 0; o < orders.Count; o++)
                {
                    if (!truncated[o])
                    {
                        double current = known[prefix[o]];
                        marginals[o][orders[o][position]] = current - previous[o];
                        previous[o] = current;
                    }
                }
            }

            for (int o = 0; o < orders.Count; o += 2)
            {
                for (int i = 0; i < n; i++)
                {
                    stats[i].Add((marginals[o][i] + marginals[o + 1][i]) / 2);
                }
            }

            pairs += batch;
            converged = pairs >= options.MinSamples && stats.All(s => Z95 * s.StandardError <= halfWidth);
        }

        return new EstimatedValues(stats.Select(s => s.Mean).ToArray(), stats.Select(s => s.StandardError).ToArray(), false, pairs, converged);
    }

    /// <summary>
    /// Maximum-sample-reuse Banzhaf: coalitions drawn uniformly (each player in with probability 1/2); every sample serves
    /// every player, as the mean utility of the samples with it minus the mean of those without it.
    /// </summary>
    public static async Task<EstimatedValues> SampleBanzhafAsync(int n, ulong seed, SamplingOptions options, Evaluate evaluate)
    {
        var random = new SplitMix64(seed);
        var with = Enumerable.Range(0, n).Select(_ => new RunningMean()).ToArray();
        var without = Enumerable.Range(0, n).Select(_ => new RunningMean()).ToArray();
        ulong grand = Coalitions.Grand(n);
        IReadOnlyDictionary<ulong, double> ends = await evaluate([0UL, grand]);
        double halfWidth = options.HalfWidth * Math.Abs(ends[grand] - ends[0UL]);
        int samples = 0;
        bool converged = false;
        while (samples < options.MaxSamples && !converged)
        {
            int batch = Math.Min(options.BatchSize * 4, options.MaxSamples - samples);
            ulong[] drawn = Enumerable.Range(0, batch).Select(_ => random.Next() & grand).ToArray();
            IReadOnlyDictionary<ulong, double> v = await evaluate(drawn.Distinct().ToList());
            foreach (ulong mask in drawn)
            {
                for (int i = 0; i < n; i++)
                {
                    (Coalitions.Contains(mask, i) ? with[i] : without[i]).Add(v[mask]);
                }
            }

            samples += batch;
            converged = samples >= options.MinSamples && Enumerable.Range(0, n).All(i =>
                with[i].Count > 1 && without[i].Count > 1 && Z95 * Math.Sqrt(with[i].Variance / with[i].Count + without[i].Variance / without[i].Count) <= halfWidth);
        }

        double[] values = Enumerable.Range(0, n).Select(i => with[i].Mean - without[i].Mean).ToArray();
        double[] errors = Enumerable.Range(0, n).Select(i => with[i].Count > 1 && without[i].Count > 1
            ? Math.Sqrt(with[i].Variance / with[i].Count + without[i].Variance / without[i].Count) : double.PositiveInfinity).ToArray();
        return new EstimatedValues(values, errors, false, samples, converged);
    }

    /// <summary>Welford's running mean and variance.</summary>
    private sealed class RunningMean
    {
        private double _m2;

        public int Count { get; private set; }

        public double Mean { get; private set; }

        public double Variance => Count > 1 ? _m2 / (Count - 1) : 0;

        public double StandardError => Count > 1 ? Math.Sqrt(Variance / Count) : double.PositiveInfinity;

        public void Add(double x)
        {
            Count++;
            double delta = x - Mean;
            Mean += delta / Count;
            _m2 += delta * (x - Mean);
        }
    }
}
