using System.Text;
using Lepton.Configuration;
using nietras.SeparatedValues;

namespace Lepton.Ingestion;

/// <summary>
/// Pass one over a source file: decides whether it can become a dataset at all, infers the schema,
/// profiles the raw columns and derives the cleaning plan. Streams the file; memory is bounded per column.
/// </summary>
public sealed class SourceAnalyzer(IngestionOptions options)
{
    private const int MaxExamples = 5;

    public SourceAnalysis Analyze(Stream source, long length, string fileName, DatasetSpec? spec, IngestProblem? specProblem = null)
    {
        List<IngestProblem> problems = specProblem is null ? [] : [specProblem];
        if (!CsvFormat.HasAcceptedExtension(fileName))
        {
            problems.Add(new IngestProblem("not-csv",
                $"'{fileName}' is not a CSV file: accepted extensions are {string.Join(", ", CsvFormat.AcceptedExtensions)}.", []));
            return Rejected(length, problems);
        }

        if (length > options.MaxFileBytes)
        {
            problems.Add(new IngestProblem("too-large",
                $"The file has {length:N0} bytes; the limit is {options.MaxFileBytes:N0} bytes (Lepton:Ingestion:MaxFileBytes).", []));
            return Rejected(length, problems);
        }

        if (length == 0)
        {
            problems.Add(new IngestProblem("empty", "The file is empty.", []));
            return Rejected(length, problems);
        }

        using var hashed = new SourceStream(source);
        try
        {
            return AnalyzeContent(hashed, spec, problems);
        }
        catch (DecoderFallbackException)
        {
            hashed.DrainToEnd();
            problems.Add(hashed.SawNulByte
                ? new IngestProblem("not-csv", "The file holds binary data, not CSV text.", [])
                : new IngestProblem("undecodable", $"The file is not valid UTF-8 text (invalid bytes within the first {hashed.BytesRead:N0} bytes). Save it as UTF-8 and upload again.", []));
            return Rejected(hashed.BytesRead, problems, hashed.Sha256Hex());
        }
        catch (NotSupportedException e) when (e.TargetSite?.DeclaringType?.Namespace == typeof(nietras.SeparatedValues.SepReader).Namespace)
        {
            // The parser holds one row in memory and stops at its limit: a file without line breaks, or a quote never closed.
            hashed.DrainToEnd();
            problems.Add(new IngestProblem("line-too-long",
                $"A row of the file is longer than {CsvFormat.MaxRowChars:N0} characters, the most one row may have: the file has no line break there, " +
                "or a quote (\") opens a field and is never closed. Check the line breaks and quotes, and upload the file again.", []));
            return Rejected(hashed.BytesRead, problems, hashed.Sha256Hex());
        }
    }

    private SourceAnalysis AnalyzeContent(SourceStream hashed, DatasetSpec? spec, List<IngestProblem> problems)
    {
        using TextReader text = CsvFormat.OpenText(hashed);
        using SepReader reader = CsvFormat.OpenReader(text);
        string separator = reader.Spec.Sep.Separator.ToString();
        string[]? header = CsvFormat.ReadHeader(reader);
        if (header is null || header.All(n => n.Length == 0))
        {
            hashed.DrainToEnd();
            problems.Add(new IngestProblem("empty", "The file has no header row and no data.", []));
            return Rejected(hashed.BytesRead, problems, hashed.Sha256Hex());
        }

        string[] names = header;
        if (names.Length > options.MaxColumns)
        {
            // Checked before any per-column state exists: a very wide header must not cost memory or time to refuse.
            problems.Add(new IngestProblem("too-many-columns",
                $"The header has {names.Length:N0} columns; at most {options.MaxColumns:N0} are accepted (Lepton:Ingestion:MaxColumns).", names.Take(MaxExamples).ToList()));
        }
        else
        {
            CheckHeader(names, problems);
        }

        if (problems.Count > 0)
        {
            hashed.DrainToEnd();
            return Rejected(hashed.BytesRead, problems, hashed.Sha256Hex(), separator);
        }

        var stats = names.Select((name, i) => new ColumnStats(name, seed: 17 + i)).ToArray();
        long rows = 0, ragged = 0;
        List<string> raggedExamples = [], formulaExamples = [];
        long formulaCells = 0;

        // In row order, on the pipeline's consuming thread: what the statistics, the formula count and the examples see
        // is the same as one thread would see.
        void Profile(CellBatch batch)
        {
            for (int row = 0, cell = 0; row < batch.Rows; row++)
            {
                for (int i = 0; i < names.Length; i++, cell++)
                {
                    CellOp op = batch.Ops[cell];
                    if ((op & CellOp.Formula) != 0)
                    {
                        formulaCells++;
                        if (formulaExamples.Count < MaxExamples)
                        {
                            formulaExamples.Add($"line {batch.Lines[row]}, column '{names[i]}': {Shorten(batch.Raw(cell))}");
                        }
                    }

                    stats[i].Add(op & ~CellOp.Formula, batch.Numbers[cell], batch.Raw(cell));
                }
            }
        }

        using (var pipeline = new CellPipeline(names.Length, counters: 0, Classify, Profile) { DecimalComma = CellValues.AllowsDecimalComma(separator[0]) })
        {
            pipeline.Run(() =>
            {
                foreach (SepReader.Row row in reader)
                {
                    rows++;
                    if (row.ColCount == names.Length)
                    {
                        pipeline.AddRow(row);
                    }
                    else if (++ragged <= MaxExamples)
                    {
                        raggedExamples.Add($"line {row.LineNumberFrom}: {row.ColCount} fields, expected {names.Length}");
                    }
                }
            });
        }

        hashed.DrainToEnd();
        if (hashed.SawNulByte)
        {
            problems.Add(new IngestProblem("not-csv", "The file holds binary data (NUL bytes), not CSV text.", []));
        }

        if (rows == 0)
        {
            problems.Add(new IngestProblem("header-only", "The file has a header row but no data rows.", []));
        }
        else if (ragged > options.MaxRaggedRowFraction * rows)
        {
            problems.Add(new IngestProblem("ragged-rows",
                $"{ragged:N0} of {rows:N0} rows have a different number of fields than the header ({names.Length}); at most {options.MaxRaggedRowFraction:P1} may, and those are dropped.",
                raggedExamples));
        }

        if (formulaCells > 0)
        {
            problems.Add(new IngestProblem("formula-injection",
                $"{formulaCells:N0} cells start like a spreadsheet formula ('=', '@', or '+'/'-' not followed by a number); such files are refused to protect whoever opens the data later.",
                formulaExamples));
        }

        string? label = spec?.Label;
        int labelIndex = label is null ? -1 : Array.IndexOf(names, label);
        if (label is not null && labelIndex < 0)
        {
            problems.Add(new IngestProblem("label-missing", $"dataset.json names the label column '{label}', which the file does not have. Columns: {string.Join(", ", names.Take(20))}.", []));
        }
        else if (labelIndex >= 0 && rows > 0 && stats[labelIndex].NonMissing == 0)
        {
            problems.Add(new IngestProblem("label-empty", $"The label column '{label}' has no values.", []));
        }

        if (problems.Count > 0)
        {
            return Rejected(hashed.BytesRead, problems, hashed.Sha256Hex(), separator, rows, ragged);
        }

        return Plan(hashed, names, stats, spec, labelIndex, rows, ragged, separator);
    }

    private SourceAnalysis Plan(SourceStream hashed, string[] names, ColumnStats[] stats, DatasetSpec? spec, int labelIndex, long rows, long ragged, string separator)
    {
        var kinds = stats.Select(SchemaInference.InferKind).ToArray();
        var columns = names.Select((name, i) => new ColumnSchema(name, kinds[i], i == labelIndex)).ToList();
        string? task = spec?.Task ?? (labelIndex >= 0 ? SchemaInference.InferTask(kinds[labelIndex], stats[labelIndex]) : null);
        var schema = new DatasetSchema(columns, labelIndex >= 0 ? names[labelIndex] : null, task);
        var rules = names.Select((name, i) => Rule(name, kinds[i], stats[i], i == labelIndex)).ToList();
        var profile = stats.Select((s, i) => s.ToProfile(kinds[i])).ToList();
        return new SourceAnalysis(hashed.Sha256Hex(), hashed.BytesRead, rows, ragged, separator, schema, profile, rules, []) { Spec = spec };
    }

    private CleaningRule Rule(string name, ColumnKind kind, ColumnStats stats, bool isLabel)
    {
        if (isLabel)
        {
            // Labels are never invented or altered: rows without one are dropped.
            return new CleaningRule(name, kind, true, null, null, null);
        }

        switch (kind)
        {
            case ColumnKind.Numeric:
                double? q1 = stats.Quantile(0.25), q3 = stats.Quantile(0.75), median = stats.Quantile(0.5);
                double iqr = (q3 ?? 0) - (q1 ?? 0);
                bool clip = iqr > 0;
                return new CleaningRule(name, kind, false, median is { } m ? CellValues.FormatNumber(m) : null,
                    clip ? q1 - (options.OutlierIqrMultiplier * iqr) : null,
                    clip ? q3 + (options.OutlierIqrMultiplier * iqr) : null);
            case ColumnKind.Boolean:
                string? mode = stats.Mode();
                return new CleaningRule(name, kind, false,
                    mode is not null && CellValues.TryParseBoolean(mode, out bool b) ? CellValues.FormatBoolean(b) : null, null, null);
            case ColumnKind.Categorical:
                return new CleaningRule(name, kind, false, stats.Mode(), null, null);
            default:
                // Free text and timestamps have no honest stand-in value: missing stays missing.
                return new CleaningRule(name, kind, false, null, null, null);
        }
    }

    /// <summary>What each cell is (<see cref="CellValues.Kind"/>), and whether a spreadsheet would run it; a number never would.</summary>
    private static void Classify(CellBatch batch, int fromRow, int toRow)
    {
        for (int cell = fromRow * batch.Columns; cell < toRow * batch.Columns; cell++)
        {
            ReadOnlySpan<char> value = batch.Raw(cell);
            CellOp kind = CellValues.Kind(value, out batch.Numbers[cell]);
            batch.Ops[cell] = kind != CellOp.Numeric && CellValues.IsFormulaInjection(value) ? kind | CellOp.Formula : kind;
        }
    }

    private static void CheckHeader(string[] names, List<IngestProblem> problems)
    {
        var empty = names.Select((n, i) => (n, i)).Where(p => p.n.Length == 0).Select(p => $"column {p.i + 1}").ToList();
        if (empty.Count > 0)
        {
            problems.Add(new IngestProblem("invalid-header", "Some header cells are empty; every column needs a name.", empty.Take(MaxExamples).ToList()));
        }

        var duplicates = names.Where(n => n.Length > 0).GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            problems.Add(new IngestProblem("invalid-header", "Column names repeat; each must be unique.", duplicates.Take(MaxExamples).ToList()));
        }

        if (names.Length == 1 && names[0].Length > 0 && names[0][0] is '{' or '[' or '<')
        {
            problems.Add(new IngestProblem("not-csv", "The file looks like JSON or XML, not CSV.", []));
        }
    }

    private SourceAnalysis Rejected(long bytes, List<IngestProblem> problems, string sha256 = "", string separator = ",", long rows = 0, long ragged = 0) =>
        new(sha256, bytes, rows, ragged, separator, null, [], [], problems);

    private static string Shorten(ReadOnlySpan<char> cell) => cell.Length <= 40 ? cell.ToString() : string.Concat(cell[..40], "…");
}
