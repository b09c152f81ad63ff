using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lepton.Errors;
using Lepton.Storage;
using Lepton.Training;
using Microsoft.IO;
using nietras.SeparatedValues;

namespace Lepton.Prediction;

/// <summary>A CSV dropped at predictions/in/&lt;model&gt;/&lt;file&gt; to be scored (a reference to it).</summary>
public sealed record BatchRequest(string TenantId, string BlobName, string ETag, string Model, string FileName, string RunId);

public sealed record BatchChunk(int Index, long FirstRow, long Rows);

public sealed record BatchPlan(BatchRequest Request, ModelVersion? Model, long Rows, IReadOnlyList<BatchChunk> Chunks, IReadOnlyList<string> Problems);

public sealed record ChunkRequest(BatchPlan Plan, BatchChunk Chunk);

public sealed record BatchOutcome(string RunId, string Status, string? Output, long Rows, IReadOnlyList<string> Problems);

/// <summary>The committed output blob, or why this run may not publish one (the file it scored was replaced meanwhile).</summary>
public sealed record BatchCommit(string? Output, IReadOnlyList<string> Problems);

/// <summary>
/// Batch scoring through blobs: each chunk of rows is scored by its own activity and staged as one block of the output
/// blob; committing the block list publishes the whole file at once, so a reader never sees a partial output.
/// Output rows are the input columns followed by prediction, score and (binary) probability.
/// </summary>
public sealed class BatchScoring(TenantStorageFactory tenants, ModelRegistry registry, ModelSessionCache sessions, Runs.StepAttempts attempts)
{
    public const string InPrefix = "in/";  // BlobLayout.PredictionInput
    public const string OutPrefix = "out/";

    /// <summary>
    /// Rows per chunk activity: about <see cref="ChunkCells"/> cells, between 1,000 and 25,000 rows. Fewer, larger
    /// activities cut the fixed cost each one pays (a durable round trip, two blob requests); the cell bound keeps a wide
    /// file's chunk (text, input columns, output) within memory when eight run at once.
    /// </summary>
    public static int RowsPerChunk(int columns) => Math.Clamp(ChunkCells / Math.Max(1, columns), 1_000, 25_000);

    private const int ChunkCells = 750_000;
    public const string PredictionColumn = "prediction", ScoreColumn = "score", ProbabilityColumn = "probability";
    private const int MaxReportedProblems = 20;
    private const int UploadsInFlight = 4;

    public static bool TryParse(string blobName, out string model, out string fileName)
    {
        model = fileName = "";
        string[] parts = blobName.Split('/');
        if (parts.Length != 3 || parts[0] + "/" != InPrefix || !Names.IsValidDataset(parts[1]) || parts[2].Length == 0)
        {
            return false;
        }

        (model, fileName) = (parts[1], parts[2]);
        return true;
    }

    public static string OutputBlob(string model, string fileName) => $"{OutPrefix}{model}/{fileName}";

    public static string ReportBlob(string model, string fileName) => $"{OutPrefix}{model}/{fileName}.report.txt";

    /// <summary>Checks the file and cuts it into chunks; a file whose reading kept killing the host is reported as such.</summary>
    public Task<BatchPlan> PlanAsync(BatchRequest request, CancellationToken ct) =>
        attempts.RunAsync(request.RunId, "plan", () => PlanOnceAsync(request, ct),
            starts => new BatchPlan(request, null, 0, [], [Runs.StepAttempts.GivenUpMessage($"Reading '{request.FileName}'", starts)]), ct);

    private async Task<BatchPlan> PlanOnceAsync(BatchRequest request, CancellationToken ct)
    {
        var problems = new List<string>();
        ModelVersion? model = null;
        try
        {
            model = await registry.GetProductionAsync(request.TenantId, request.Model, ct);
        }
        catch (LeptonException e) when (e.Kind == ErrorKind.NotFound)
        {
            problems.Add($"There is no model '{request.Model}': files go to predictions/in/<model>/<file>.csv.");
        }
        catch (LeptonException e) when (e.Kind == ErrorKind.Conflict)
        {
            problems.Add($"Model '{request.Model}' has no production version yet.");
        }

        if (!Ingestion.CsvFormat.HasAcceptedExtension(request.FileName))
        {
            problems.Add($"'{request.FileName}' is not a CSV file.");
        }

        long rows = 0;
        var chunks = new List<BatchChunk>();
        if (problems.Count == 0)
        {
            TenantStorage storage = await tenants.ForTenantAsync(request.TenantId, ct);
            var uploads = new Queue<Task>();
            try
            {
                rows = await SplitAsync(storage, request, model!, problems, chunks, uploads, ct);
            }
            catch (DecoderFallbackException)
            {
                problems.Add("The file is not valid UTF-8 text. Save it as UTF-8 and upload it again.");
            }
            catch (NotSupportedException e) when (e.TargetSite?.DeclaringType?.Namespace == typeof(SepReader).Namespace)
            {
                problems.Add($"A row of the file is longer than {Ingestion.CsvFormat.MaxRowChars:N0} characters: the file has no line break there, or a quote (\") opens a field and is never closed.");
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                problems.Add(SourceGone(e.Status, "before it could be read"));
            }
            finally
            {
                // Chunks still uploading when reading stopped must land before a report deletes the staged chunks.
                await Task.WhenAll(uploads).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            if (rows == 0 && problems.Count == 0)
            {
                problems.Add("The file has no rows to score.");
            }
        }

        return new BatchPlan(request, model, rows, problems.Count == 0 ? chunks : [], problems);
    }

    /// <summary>
    /// One pass over the file: checks every row's shape and every input cell's value (as the predict route does: a
    /// blank or unparsable number is an error, not a silent NaN), and stages the rows as chunk blobs, so each chunk's
    /// activity reads only its own rows — the whole run reads the file once.
    /// </summary>
    private static async Task<long> SplitAsync(TenantStorage storage, BatchRequest request, ModelVersion model, List<string> problems, List<BatchChunk> chunks,
        Queue<Task> uploads, CancellationToken ct)
    {
        using BlobDownloadStreamingResult download = await Source(storage, request).DownloadVersionAsync(request.ETag, ct);
        using TextReader text = Ingestion.CsvFormat.OpenText(download.Content);
        using SepReader reader = Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
        string[] header = reader.Header.ColNames.ToArray();
        string[] missing = model.Inputs.Select(i => i.Name).Where(n => !header.Contains(n)).ToArray();
        if (missing.Length > 0)
        {
            problems.Add($"The file lacks the model's input columns: {string.Join(", ", missing)}.");
            return 0;
        }

        int chunkRows = RowsPerChunk(header.Length);
        char separator = reader.Spec.Sep.Separator;
        bool decimalComma = Ingestion.CellValues.AllowsDecimalComma(separator);
        (int Column, ModelInput Input)[] checkedInputs = model.Inputs.Where(i => i.Type is "float" or "bool").Select(i => (Array.IndexOf(header, i.Name), i)).ToArray();
        long rows = 0;
        ChunkText? chunk = null;
        foreach (SepReader.Row row in reader)
        {
            if (row.ColCount != header.Length)
            {
                problems.Add($"Line {row.LineNumberFrom} has {row.ColCount} fields; the header has {header.Length}.");
                break;
            }

            foreach ((int column, ModelInput input) in checkedInputs)
            {
                ReadOnlySpan<char> cell = row[column].Span.Trim();
                bool valid = input.Type == "float" ? !cell.IsEmpty && Ingestion.CellValues.TryParseNumber(cell, decimalComma, out _) : Ingestion.CellValues.TryParseBoolean(cell, out _);
                if (!valid && problems.Count < MaxReportedProblems)
                {
                    // As on the predict route: models take 32-bit floats, where 1e300 would be infinity.
                    problems.Add($"Line {row.LineNumberFrom}, column '{input.Name}': " + (cell.IsEmpty ? "the value is missing."
                        : input.Type == "float" && Ingestion.CellValues.IsBeyondFloat(cell) ? $"'{Truncate(cell.ToString())}' is beyond a 32-bit float's range (±3.4e38)."
                        : $"'{Truncate(cell.ToString())}' is not a {(input.Type == "float" ? "number" : "true/false value")}."));
                }
            }

            if (problems.Count > 0)
            {
                continue;
            }

            // The row's text as it came (the columns checked above were read, not unescaped in place: a valid number or
            // true/false value has no escaped quote), so its chunk parses to the same cells with the file's separator.
            chunk ??= new ChunkText(header, separator);
            chunk.AddRow(row.Span);

            if (++rows % chunkRows == 0)
            {
                await StageChunkAsync(storage, request, chunks, uploads, rows, chunk, ct);
                chunk = null;
            }
        }

        if (chunk is not null && problems.Count == 0)
        {
            await StageChunkAsync(storage, request, chunks, uploads, rows, chunk, ct);
        }

        await Task.WhenAll(uploads);
        return rows;
    }

    /// <summary>
    /// Starts the upload of a full chunk and goes on reading while it runs; at most <see cref="UploadsInFlight"/> run at
    /// once (the oldest is awaited first), so reading the file and writing its chunks overlap with bounded memory.
    /// </summary>
    private static async Task StageChunkAsync(TenantStorage storage, BatchRequest request, List<BatchChunk> chunks, Queue<Task> uploads, long rowsSoFar,
        ChunkText chunk, CancellationToken ct)
    {
        BinaryData content = chunk.Complete();
        int index = chunks.Count;
        long first = chunks.Count == 0 ? 0 : chunks[^1].FirstRow + chunks[^1].Rows;
        if (uploads.Count >= UploadsInFlight)
        {
            await uploads.Dequeue();
        }

        uploads.Enqueue(storage.Predictions.GetBlobClient(BlobLayout.BatchChunk(request.RunId, index)).UploadAsync(content, overwrite: true, ct));
        chunks.Add(new BatchChunk(index, first, rowsSoFar - first));
    }

    /// <summary>
    /// Scores one staged chunk and stages its output as a block of the output blob; returns the block id.
    /// </summary>
    public async Task<string> ScoreChunkAsync(ChunkRequest input, CancellationToken ct)
    {
        BatchPlan plan = input.Plan;
        ModelVersion model = plan.Model!;
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        OnnxScorer scorer = await sessions.GetAsync(model, plan.Request.TenantId, ct);
        (byte[] staged, int length) = await DownloadAsync(storage.Predictions.GetBlobClient(BlobLayout.BatchChunk(plan.Request.RunId, input.Chunk.Index)), ct);
        try
        {
            using RecyclableMemoryStream content = OutputBuffers.GetStream(nameof(ScoreChunkAsync), length + length / 4);
            using (var text = new StreamWriter(content, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true))
            {
                ScoreChunkText(scorer, model, staged.AsMemory(0, length), checked((int)input.Chunk.Rows), writeHeader: input.Chunk.Index == 0, text, input.Chunk.FirstRow);
            }

            content.Position = 0;
            string blockId = BlockId(plan.Request.RunId, input.Chunk.Index);
            BlockBlobClient output = storage.Predictions.GetBlockBlobClient(OutputBlob(plan.Request.Model, plan.Request.FileName));
            await output.StageBlockAsync(blockId, content, cancellationToken: ct);
            return blockId;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(staged);
        }
    }

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    // A chunk's output is megabytes: pooled blocks instead of a new large array per activity (each a share of a full
    // collection). Free blocks kept are bounded, so an idle host does not hold a big file's worth.
    private static readonly RecyclableMemoryStreamManager OutputBuffers = new(new RecyclableMemoryStreamManager.Options
    {
        MaximumSmallPoolFreeBytes = 64L * 1024 * 1024,
        MaximumLargePoolFreeBytes = 64L * 1024 * 1024,
    });

    /// <summary>
    /// A staged chunk's bytes, read into a pooled buffer (return it when done) and parsed from there: a chunk is megabytes,
    /// and a new array for its bytes plus a string of its text (twice the bytes) per activity were large-object
    /// allocations, each chunk's share of the full collections they set off.
    /// </summary>
    private static async Task<(byte[] Bytes, int Length)> DownloadAsync(BlobClient blob, CancellationToken ct)
    {
        using BlobDownloadStreamingResult download = (await blob.DownloadStreamingAsync(cancellationToken: ct)).Value;
        int length = checked((int)download.Details.ContentLength);
        byte[] bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await download.Content.ReadExactlyAsync(bytes.AsMemory(0, length), ct);
            return (bytes, length);
        }
        catch
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
            throw;
        }
    }

    /// <summary>A staged chunk (UTF-8 CSV with its header) to read.</summary>
    private static SepReader OpenChunk(ReadOnlyMemory<byte> staged)
    {
        ArraySegment<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(staged, out ArraySegment<byte> segment) ? segment : staged.ToArray();
        return Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false));
    }

    /// <summary>
    /// A chunk's rows with their predictions appended, as CSV text written to <paramref name="text"/>. Two reads of the
    /// chunk: the first fills the model's input columns directly (no row objects), the second copies each row out beside
    /// its prediction — as it came where that is already safe, comma-separated CSV, cell by cell otherwise.
    /// </summary>
    /// <param name="firstRow">The chunk's first row in the file (0-based), for naming rows the model cannot score.</param>
    public static void ScoreChunkText(OnnxScorer scorer, ModelVersion model, ReadOnlyMemory<byte> staged, int rows, bool writeHeader, TextWriter text, long firstRow = 0)
    {
        ScoringBatch inputs = ReadInputs(scorer, staged, rows);
        Dictionary<string, float[][]> outputs;
        try
        {
            outputs = scorer.Score(inputs);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException failure)
        {
            // The file's data, not the platform: a report names the rows, and no retry could score them.
            IReadOnlyList<int> unscorable = UnscorableRows.Find(scorer.Score, inputs, failure);
            throw LeptonException.BadRequest($"The model cannot score {unscorable.Count} row(s) of the file (data row "
                + string.Join(", ", unscorable.Take(MaxReportedProblems).Select(r => (firstRow + r + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))
                + (unscorable.Count > MaxReportedProblems ? ", …" : "") + $"): {UnscorableRows.Why}.");
        }

        bool binary = model.Task == MlTasks.Binary;
        string positive = ModelOutputs.PositiveClass(model);
        using SepReader reader = OpenChunk(staged);
        int width = reader.Header.ColNames.Count;
        bool commas = reader.Spec.Sep.Separator == ',';
        if (writeHeader)
        {
            string[] header = [.. reader.Header.ColNames, PredictionColumn, ScoreColumn, .. binary ? [ProbabilityColumn] : Array.Empty<string>()];
            for (int i = 0; i < header.Length; i++)
            {
                WriteCell(text, header[i], first: i == 0);
            }

            text.Write('\n');
        }

        int r = 0;
        foreach (SepReader.Row row in reader)
        {
            // A row without quotes has no cell to unescape, so with commas its text is its CSV as this writer would write
            // it: copied as it came unless a cell would run as a formula in a spreadsheet (then written as text).
            ReadOnlySpan<char> raw = row.Span;
            if (commas && !raw.Contains('"') && !HasFormula(row, width))
            {
                text.Write(raw);
            }
            else
            {
                for (int i = 0; i < width; i++)
                {
                    ReadOnlySpan<char> value = row[i].Span;
                    WriteCell(text, Ingestion.CellValues.IsFormulaInjection(value.Trim()) ? "'" + value.ToString() : value, first: i == 0);
                }
            }

            Prediction p = ModelOutputs.InterpretRow(model, outputs, r++);
            WriteCell(text, p.Label ?? "");
            WriteCell(text, OnnxScorer.FormatFloat(p.Score));
            if (binary)
            {
                WriteCell(text, OnnxScorer.FormatFloat(p.Probabilities?.GetValueOrDefault(positive, float.NaN) ?? float.NaN));
            }

            text.Write('\n');
        }
    }

    private static bool HasFormula(SepReader.Row row, int width)
    {
        for (int i = 0; i < width; i++)
        {
            if (Ingestion.CellValues.IsFormulaInjection(row[i].Span.Trim()))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One CSV cell: quoted, its quotes doubled, when it holds the separator, a quote or a line break.</summary>
    private static void WriteCell(TextWriter text, ReadOnlySpan<char> value, char separator = ',', bool first = false)
    {
        if (!first)
        {
            text.Write(separator);
        }

        if (value.IndexOfAny('"', '\r', '\n') < 0 && !value.Contains(separator))
        {
            text.Write(value);
            return;
        }

        text.Write('"');
        for (int quote; (quote = value.IndexOf('"')) >= 0; value = value[(quote + 1)..])
        {
            text.Write(value[..(quote + 1)]);
            text.Write('"');
        }

        text.Write(value);
        text.Write('"');
    }

    /// <summary>The chunk's rows as the model's input columns (the planning pass already checked every value).</summary>
    private static ScoringBatch ReadInputs(OnnxScorer scorer, ReadOnlyMemory<byte> staged, int rows)
    {
        ScoringBatch batch = scorer.NewBatch(rows);
        using SepReader reader = OpenChunk(staged);
        string[] header = reader.Header.ColNames.ToArray();
        (int Column, CellTarget Target)[] inputs = scorer.Inputs.Select((input, i) => (Array.IndexOf(header, input.Name), batch.Target(i))).ToArray();
        bool decimalComma = Ingestion.CellValues.AllowsDecimalComma(reader.Spec.Sep.Separator);
        int r = 0;
        foreach (SepReader.Row row in reader)
        {
            if (r == rows)
            {
                throw new InvalidOperationException($"The staged chunk holds more than the {rows} rows its plan counted.");
            }

            foreach ((int column, CellTarget target) in inputs)
            {
                target.Set(r, column < 0 ? default : row[column].Span, decimalComma);
            }

            r++;
        }

        return r == rows ? batch : throw new InvalidOperationException($"The staged chunk holds {r} rows; its plan counted {rows}.");
    }

    /// <summary>
    /// A chunk's block id: the run's and the chunk's, the same length for every run. Two uploads of one file name score
    /// at once into the same output blob; with ids of the chunk alone, the later run's blocks replaced the earlier's
    /// uncommitted ones, and a commit published chunks of both files.
    /// </summary>
    public static string BlockId(string runId, int index) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes($"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(runId)), 0, 8)}-{index:D8}"));

    /// <summary>
    /// Publishes the staged blocks as the output, unless the file was replaced or deleted since this run read it: the
    /// newer upload's run publishes its own output, and an older run must not overwrite it (or find its blocks discarded
    /// by that run's commit, which drops every uncommitted block of the blob).
    /// </summary>
    public async Task<BatchCommit> CommitAsync(BatchPlan plan, IReadOnlyList<string> blockIds, CancellationToken ct)
    {
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        BlockBlobClient output = storage.Predictions.GetBlockBlobClient(OutputBlob(plan.Request.Model, plan.Request.FileName));
        if (await SourceGoneAsync(storage, plan.Request, ct) is { } gone)
        {
            return new BatchCommit(null, [SourceGone(gone, "while it was being scored")]);
        }

        try
        {
            await output.CommitBlockListAsync(blockIds, new CommitBlockListOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" },
                Metadata = AnswerMetadata(plan.Request),
            }, ct);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.InvalidBlockList)
        {
            // Replaced between the check and the commit: the newer run's commit discarded these blocks.
            if (await SourceGoneAsync(storage, plan.Request, ct) is { } meanwhile)
            {
                return new BatchCommit(null, [SourceGone(meanwhile, "while it was being scored")]);
            }

            throw;
        }

        // A report at this name answered an earlier upload of it; this output answers the current one.
        await storage.Predictions.GetBlobClient(ReportBlob(plan.Request.Model, plan.Request.FileName)).DeleteIfExistsAsync(cancellationToken: ct);
        await DeleteChunksAsync(storage, plan, ct);
        return new BatchCommit(output.Name, []);
    }

    /// <summary>
    /// Which upload an output or report answers: the ETag its PUT returned and the run. An answer at a name can be an
    /// earlier upload's until the newest one's run finishes, so a client can match the two.
    /// </summary>
    public static IDictionary<string, string> AnswerMetadata(BatchRequest request) =>
        new Dictionary<string, string> { [SourceETagKey] = AnsweredETag(request), ["runid"] = request.RunId };

    /// <summary>The metadata key of the upload an answer is for.</summary>
    private const string SourceETagKey = "sourceetag";

    private static string AnsweredETag(BatchRequest request) => request.ETag.Trim('"');

    /// <summary>404 or 412 when the file this run read is no longer the upload at its name (deleted or replaced), else null.</summary>
    private static Task<int?> SourceGoneAsync(TenantStorage storage, BatchRequest request, CancellationToken ct) =>
        Source(storage, request).VersionGoneAsync(request.ETag, ct);

    private static string SourceGone(int status, string when) => status == 404
        ? $"The file was deleted {when}."
        : $"The file was replaced {when}; the new upload is scored on its own.";

    /// <summary>
    /// Writes the report of a file that cannot be scored; returns its name, or null when the file has been replaced since
    /// this run read it — the newer upload's run answers for the name, and a report of this one would overwrite its answer.
    /// </summary>
    public async Task<string?> ReportAsync(BatchPlan plan, CancellationToken ct)
    {
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        if (await SourceGoneAsync(storage, plan.Request, ct) == 412)
        {
            await DeleteChunksAsync(storage, plan, ct);
            return null;
        }

        await DeleteEarlierOutputAsync(storage, plan.Request, ct);
        string name = ReportBlob(plan.Request.Model, plan.Request.FileName);
        string text = $"Lepton could not score '{plan.Request.BlobName}' (run {plan.Request.RunId}). No output was written.\n\n" +
            string.Concat(plan.Problems.Select(p => $"- {p}\n"));
        await storage.Predictions.GetBlobClient(name).UploadAsync(BinaryData.FromString(text),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" }, Metadata = AnswerMetadata(plan.Request) }, ct);
        await DeleteChunksAsync(storage, plan, ct);
        return name;
    }

    /// <summary>
    /// An output at the name that answered an earlier upload of it: this run's report answers the current one, and the
    /// answer at a name is the newest upload's (a client that found the earlier output took it for this upload's). It
    /// goes before the report is written, so a client never sees both; only the version read goes, so an output that a
    /// newer run committed meanwhile stays.
    /// </summary>
    private static async Task DeleteEarlierOutputAsync(TenantStorage storage, BatchRequest request, CancellationToken ct)
    {
        BlobClient output = storage.Predictions.GetBlobClient(OutputBlob(request.Model, request.FileName));
        try
        {
            BlobProperties answered = (await output.GetPropertiesAsync(cancellationToken: ct)).Value;
            if (!answered.Metadata.TryGetValue(SourceETagKey, out string? etag) || etag != AnsweredETag(request))
            {
                await output.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = answered.ETag }, cancellationToken: ct);
            }
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // No output at the name, or one written meanwhile by a newer run: nothing of an earlier upload to remove.
        }
    }

    /// <summary>The staged chunks are scratch: once the output is committed (or the file reported), they go.</summary>
    private static async Task DeleteChunksAsync(TenantStorage storage, BatchPlan plan, CancellationToken ct)
    {
        await foreach (BlobItem blob in storage.Predictions.GetBlobsAsync(BlobTraits.None, BlobStates.None, BlobLayout.BatchWorkPrefix(plan.Request.RunId), ct))
        {
            await storage.Predictions.GetBlobClient(blob.Name).DeleteIfExistsAsync(cancellationToken: ct);
        }
    }

    private static string Truncate(string text) => text.Length <= 30 ? text : text[..30] + "…";

    private static BlobClient Source(TenantStorage storage, BatchRequest request) => storage.Predictions.GetBlobClient(request.BlobName);

    /// <summary>
    /// A chunk's text: the header in the file's own separator, then rows copied as they came, written as UTF-8 straight
    /// into the buffer that is uploaded (no string of the whole chunk, no second encoding pass).
    /// </summary>
    private sealed class ChunkText
    {
        private readonly MemoryStream _bytes = new();
        private readonly StreamWriter _text;

        public ChunkText(string[] header, char separator)
        {
            _text = new StreamWriter(_bytes, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true);
            for (int i = 0; i < header.Length; i++)
            {
                WriteCell(_text, header[i], separator, first: i == 0);
            }

            _text.Write('\n');
        }

        public void AddRow(ReadOnlySpan<char> row)
        {
            _text.Write(row);
            _text.Write('\n');
        }

        public BinaryData Complete()
        {
            _text.Dispose();
            return BinaryData.FromBytes(_bytes.GetBuffer().AsMemory(0, (int)_bytes.Length));
        }
    }
}
