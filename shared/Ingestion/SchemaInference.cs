namespace Lepton.Ingestion;

/// <summary>Decides a column's kind from the evidence pass one collected.</summary>
public static class SchemaInference
{
    /// <summary>Share of non-missing values that must parse as numbers (or dates) for the column to be one; the rest become missing.</summary>
    public const double TypeAgreement = 0.95;

    /// <summary>Columns with at most this many distinct values are categorical regardless of row count.</summary>
    public const int SmallCategoricalCardinality = 20;

    public static ColumnKind InferKind(ColumnStats stats)
    {
        long present = stats.NonMissing;
        if (present == 0)
        {
            return ColumnKind.Text;
        }

        if (stats.BooleanCount == present)
        {
            return ColumnKind.Boolean;
        }

        if (stats.NumericCount >= TypeAgreement * present)
        {
            return ColumnKind.Numeric;
        }

        if (stats.DateTimeCount >= TypeAgreement * present)
        {
            return ColumnKind.DateTime;
        }

        bool fewDistinct = !stats.DistinctOverflow &&
            (stats.DistinctTracked <= SmallCategoricalCardinality || stats.DistinctTracked <= present * 0.05);
        return fewDistinct ? ColumnKind.Categorical : ColumnKind.Text;
    }

    /// <summary>The learning task a label column implies: binary, multiclass or regression.</summary>
    public static string InferTask(ColumnKind labelKind, ColumnStats labelStats) =>
        InferTask(labelKind, labelStats.DistinctValues, labelStats.NonMissing);

    /// <summary>
    /// The one rule for a label's task. Two values make a binary label whatever their kind. A numeric label is a class
    /// code — multiclass — when its values are whole numbers, at most <see cref="SmallCategoricalCardinality"/> of them,
    /// with at least <see cref="RowsPerClassCode"/> rows per value on average (iris's 0/1/2, a digit 0–9, a cover type
    /// 1–7); any other numeric label is a quantity, regression (the diabetes data's progression has 214 values). The
    /// request's "task" overrides it either way.
    /// </summary>
    /// <param name="distinct">The label's distinct values, or null when there are too many to track.</param>
    /// <param name="rows">Rows with a label.</param>
    public static string InferTask(ColumnKind labelKind, IReadOnlyCollection<string>? distinct, long rows) => labelKind switch
    {
        ColumnKind.Boolean => "binary",
        _ when distinct is { Count: 2 } => "binary",
        ColumnKind.Numeric when distinct is { Count: > 2 and <= SmallCategoricalCardinality } && distinct.Count * RowsPerClassCode <= rows
            && distinct.All(IsWholeNumber) => "multiclass",
        ColumnKind.Numeric => "regression",
        _ => "multiclass",
    };

    /// <summary>Fewer rows per value than this and a whole-number label reads as a quantity, not as class codes.</summary>
    public const int RowsPerClassCode = 5;

    private static bool IsWholeNumber(string value) =>
        CellValues.TryParseNumber(value.AsSpan().Trim(), out double number) && number == Math.Floor(number);
}
