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
    public static string InferTask(ColumnKind labelKind, ColumnStats labelStats) => labelKind switch
    {
        ColumnKind.Boolean => "binary",
        ColumnKind.Numeric when !labelStats.DistinctOverflow && labelStats.DistinctTracked == 2 => "binary",
        ColumnKind.Numeric => "regression",
        _ when labelStats.DistinctTracked == 2 => "binary",
        _ => "multiclass",
    };
}
