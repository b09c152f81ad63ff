using System.Text.Json.Serialization;

namespace Lepton.Ingestion;

[JsonConverter(typeof(JsonStringEnumConverter<ColumnKind>))]
public enum ColumnKind
{
    Numeric,
    Boolean,
    Categorical,
    Text,
    DateTime,
}

public sealed record ColumnSchema(string Name, ColumnKind Kind, bool IsLabel);

public sealed record DatasetSchema(IReadOnlyList<ColumnSchema> Columns, string? Label, string? Task);

public sealed record ValueCount(string Value, long Count);

/// <summary>Summary statistics of one column. Numeric fields are null where they do not apply.</summary>
public sealed record ColumnProfile(
    string Name,
    ColumnKind Kind,
    long Count,
    long Missing,
    long Distinct,
    bool DistinctIsLowerBound,
    double? Min,
    double? Max,
    double? Mean,
    double? Std,
    double? Median,
    IReadOnlyList<ValueCount> TopValues,
    IReadOnlyList<HistogramBin>? Histogram = null);

/// <summary>One equal-width bin of a numeric column: values in [Lower, Upper) (the last bin includes Upper).</summary>
public sealed record HistogramBin(double Lower, double Upper, long Count);

/// <summary>Why a file cannot become a dataset, with a few examples of the offending rows or cells.</summary>
public sealed record IngestProblem(string Code, string Message, IReadOnlyList<string> Examples);

/// <summary>How pass two treats one column, decided from pass one.</summary>
public sealed record CleaningRule(string Column, ColumnKind Kind, bool IsLabel, string? ImputeValue, double? LowerFence, double? UpperFence);

/// <summary>Result of the first pass over a source file: validity, schema, raw profile and the cleaning plan.</summary>
public sealed record SourceAnalysis(
    string Sha256,
    long Bytes,
    long DataRows,
    long RaggedRows,
    string Separator,
    DatasetSchema? Schema,
    IReadOnlyList<ColumnProfile> RawProfile,
    IReadOnlyList<CleaningRule> Rules,
    IReadOnlyList<IngestProblem> Problems)
{
    public bool IsRejected => Problems.Count > 0;

    /// <summary>The dataset.json in force when the file was read (label, task, autoTrain).</summary>
    public DatasetSpec? Spec { get; init; }
}

/// <summary>What cleaning changed, counted; per column where it applies.</summary>
public sealed record CleaningCounts(
    long RaggedRowsDropped,
    long DuplicateRowsDropped,
    long MissingLabelRowsDropped,
    long CellsTrimmed,
    long MissingTokensNormalized,
    long InvalidValuesCoerced,
    long ValuesImputed,
    long OutliersClipped,
    IReadOnlyDictionary<string, ColumnCleaningCounts> Columns);

public sealed record ColumnCleaningCounts(long InvalidValuesCoerced, long ValuesImputed, long OutliersClipped);

public sealed record CleaningResult(long RowsIn, long RowsOut, CleaningCounts Counts, IReadOnlyList<ColumnProfile> Profile, IReadOnlyList<IngestProblem> Problems)
{
    public bool IsRejected => Problems.Count > 0;
}
