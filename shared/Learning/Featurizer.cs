using Lepton.Ingestion;

namespace Lepton.Learning;

/// <summary>A numeric or boolean input: missing values become <see cref="Fill"/>, then (x − Center) / Scale.</summary>
public sealed record NumericFeature(string Name, bool IsBoolean, double Fill, double Center, double Scale);

/// <summary>A categorical input, one-hot over <see cref="Categories"/>; a value not among them (or missing) is all zeros.</summary>
public sealed record CategoricalFeature(string Name, IReadOnlyList<string> Categories);

/// <summary>
/// Featurization kept as data — imputation means, standardization centers and scales, category lists — so it can be
/// stored with the model, exported to ONNX, and later computed from several members' statistics without their rows.
/// The same steps as the other candidates': missing-value replacement, booleans as 0/1, one-hot categories,
/// standardization from training statistics.
/// </summary>
public sealed record Featurization(IReadOnlyList<NumericFeature> Numeric, IReadOnlyList<CategoricalFeature> Categorical)
{
    public const int MaxCategories = 100;

    public int Width => Numeric.Count + Categorical.Sum(c => c.Categories.Count);

    /// <summary>The features' input columns in the order the model declares them.</summary>
    public IEnumerable<(string Name, string Type)> Inputs =>
        Numeric.Select(n => (n.Name, n.IsBoolean ? "bool" : "float")).Concat(Categorical.Select(c => (c.Name, "string")));

    /// <summary>Fits the statistics on training columns (raw curated text per column).</summary>
    public static Featurization Fit(IReadOnlyList<ColumnSchema> features, IReadOnlyDictionary<string, string[]> columns)
    {
        var numeric = new List<NumericFeature>();
        var categorical = new List<CategoricalFeature>();
        foreach (ColumnSchema feature in features)
        {
            string[] values = columns[feature.Name];
            if (feature.Kind == ColumnKind.Categorical)
            {
                // Most frequent first (ties by name), capped: rare values share the all-zero code with unseen ones.
                categorical.Add(new CategoricalFeature(feature.Name, values.Where(v => v.Length > 0).GroupBy(v => v, StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(MaxCategories).Select(g => g.Key).ToList()));
                continue;
            }

            bool isBoolean = feature.Kind == ColumnKind.Boolean;
            double[] present = values.Select(v => Parse(v, isBoolean)).Where(double.IsFinite).ToArray();
            double mean = present.Length == 0 ? 0 : present.Average();
            double std = present.Length < 2 ? 0 : Math.Sqrt(present.Sum(x => (x - mean) * (x - mean)) / present.Length);
            numeric.Add(new NumericFeature(feature.Name, isBoolean, mean, mean, std > 1e-12 ? std : 1));
        }

        return new Featurization(numeric, categorical);
    }

    /// <summary>Writes the features of row <paramref name="row"/> into <paramref name="destination"/> (<see cref="Width"/> values).</summary>
    public void Apply(IReadOnlyDictionary<string, string[]> columns, int row, Span<float> destination)
    {
        int k = 0;
        foreach (NumericFeature n in Numeric)
        {
            double x = Parse(columns[n.Name][row], n.IsBoolean);
            destination[k++] = (float)(((double.IsFinite(x) ? x : n.Fill) - n.Center) / n.Scale);
        }

        foreach (CategoricalFeature c in Categorical)
        {
            string value = columns[c.Name][row];
            for (int j = 0; j < c.Categories.Count; j++)
            {
                destination[k++] = c.Categories[j] == value ? 1 : 0;
            }
        }
    }

    /// <summary>A row of features from typed values (as the prediction API receives them): float, bool or string per input.</summary>
    public float[] Apply(Func<string, object?> value)
    {
        var result = new float[Width];
        int k = 0;
        foreach (NumericFeature n in Numeric)
        {
            double x = value(n.Name) switch
            {
                bool b => b ? 1 : 0,
                float f => f,
                double d => d,
                _ => double.NaN,
            };
            result[k++] = (float)(((double.IsFinite(x) ? x : n.Fill) - n.Center) / n.Scale);
        }

        foreach (CategoricalFeature c in Categorical)
        {
            string? text = value(c.Name) as string;
            for (int j = 0; j < c.Categories.Count; j++)
            {
                result[k++] = c.Categories[j] == text ? 1 : 0;
            }
        }

        return result;
    }

    public static double Parse(string text, bool isBoolean)
    {
        ReadOnlySpan<char> trimmed = text.AsSpan().Trim();
        if (trimmed.Length == 0)
        {
            return double.NaN;
        }

        if (isBoolean)
        {
            return CellValues.TryParseBoolean(trimmed, out bool flag) ? (flag ? 1 : 0) : double.NaN;
        }

        return CellValues.TryParseNumber(trimmed, out double value) ? value : double.NaN;
    }
}
