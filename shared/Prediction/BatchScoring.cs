using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lepton.Errors;
using Lepton.Storage;
using Lepton.Training;
using nietras.SeparatedValues;

namespace Lepton.Prediction;

/// <summary>A CSV dropped at predictions/in/&lt;model&gt;/&lt;file&gt; to be scored (a reference to it).</summary>
public sealed record BatchRequest(string TenantId, string BlobName, string ETag, string Model, string FileName, string RunId);

public sealed record BatchChunk(int Index, long FirstRow, long Rows);

public sealed record BatchPlan(BatchRequest Request, ModelVersion? Model, long Rows, IReadOnlyList<BatchChunk> Chunks, IReadOnlyList<string> Problems);

public sealed record ChunkRequest(BatchPlan Plan, BatchChunk Chunk);

public sealed record BatchOutcome(string RunId, string Status, string? Output, long Rows, IReadOnlyList<string> Problems);

/// <summary>
/// Batch scoring through blobs: each chunk of rows is scored by its own activity and staged as one block of the output
/// blob; committing the block list publishes the whole file at once, so a reader never sees a partial output.
/// Output rows are the input columns followed by prediction, score and (binary) probability.
/// </summary>
public sealed class BatchScoring(TenantStorageFactory tenants, ModelRegistry registry, ModelSessionCache sessions)
{
    public const string InPrefix = "in/";  // BlobLayout.PredictionInput
    public const string OutPrefix = "out/";
    public const int ChunkRows = 10_000;

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

    public async Task<BatchPlan> PlanAsync(BatchRequest request, CancellationToken ct)
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
        if (problems.Count == 0)
        {
            TenantStorage storage = await tenants.ForTenantAsync(request.TenantId, ct);
            await using Stream stream = await Source(storage, request).OpenReadAsync(new BlobOpenReadOptions(false) { Conditions = IfMatch(request) }, ct);
            using SepReader reader = Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(stream);
            string[] header = reader.Header.ColNames.ToArray();
            string[] missing = model!.Inputs.Select(i => i.Name).Where(n => !header.Contains(n)).ToArray();
            if (missing.Length > 0)
            {
                problems.Add($"The file lacks the model's input columns: {string.Join(", ", missing)}.");
            }

            foreach (SepReader.Row row in reader)
            {
                if (row.ColCount != header.Length)
                {
                    problems.Add($"Line {row.LineNumberFrom} has {row.ColCount} fields; the header has {header.Length}.");
                    break;
                }

                rows++;
            }

            if (rows == 0 && problems.Count == 0)
            {
                problems.Add("The file has no rows to score.");
            }
        }

        var chunks = new List<BatchChunk>();
        for (long first = 0, index = 0; problems.Count == 0 && first < rows; first += ChunkRows, index++)
        {
            chunks.Add(new BatchChunk((int)index, first, Math.Min(ChunkRows, rows - first)));
        }

        return new BatchPlan(request, model, rows, chunks, problems);
    }

    /// <summary>Scores one chunk and stages it as a block of the output blob; returns the block id.</summary>
    public async Task<string> ScoreChunkAsync(ChunkRequest input, CancellationToken ct)
    {
        BatchPlan plan = input.Plan;
        ModelVersion model = plan.Model!;
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        OnnxScorer scorer = await sessions.GetAsync(model, plan.Request.TenantId, ct);
        var rows = new List<IReadOnlyDictionary<string, string?>>();
        var lines = new List<string>();
        string header;
        await using (Stream stream = await Source(storage, plan.Request).OpenReadAsync(new BlobOpenReadOptions(false) { Conditions = IfMatch(plan.Request) }, ct))
        using (SepReader reader = Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(stream))
        {
            string[] names = reader.Header.ColNames.ToArray();
            header = string.Join(',', names.Select(n => n.Contains(',') || n.Contains('"') ? $"\"{n.Replace("\"", "\"\"")}\"" : n));
            long index = 0;
            foreach (SepReader.Row row in reader)
            {
                if (index++ < input.Chunk.FirstRow)
                {
                    continue;
                }

                if (rows.Count == input.Chunk.Rows)
                {
                    break;
                }

                var values = new Dictionary<string, string?>(names.Length);
                for (int i = 0; i < names.Length; i++)
                {
                    values[names[i]] = row[i].ToString();
                }

                rows.Add(values);
                lines.Add(row.Span.ToString());
            }
        }

        Dictionary<string, float[][]> outputs = scorer.Score(rows);
        IReadOnlyList<Prediction> predictions = ModelOutputs.Interpret(model, outputs, rows.Count);
        bool binary = model.Task == MlTasks.Binary;
        string positive = ModelOutputs.PositiveClass(model);
        var text = new StringBuilder();
        if (input.Chunk.Index == 0)
        {
            text.Append(header).Append(",prediction,score").Append(binary ? ",probability" : "").Append('\n');
        }

        for (int i = 0; i < rows.Count; i++)
        {
            Prediction p = predictions[i];
            text.Append(lines[i]).Append(',').Append(p.Label ?? "").Append(',').Append(OnnxScorer.FormatFloat(p.Score));
            if (binary)
            {
                text.Append(',').Append(OnnxScorer.FormatFloat(p.Probabilities?.GetValueOrDefault(positive, float.NaN) ?? float.NaN));
            }

            text.Append('\n');
        }

        string blockId = Convert.ToBase64String(Encoding.ASCII.GetBytes($"chunk-{input.Chunk.Index:D8}"));
        BlockBlobClient output = storage.Predictions.GetBlockBlobClient(OutputBlob(plan.Request.Model, plan.Request.FileName));
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
        await output.StageBlockAsync(blockId, content, cancellationToken: ct);
        return blockId;
    }

    public async Task<string> CommitAsync(BatchPlan plan, IReadOnlyList<string> blockIds, CancellationToken ct)
    {
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        BlockBlobClient output = storage.Predictions.GetBlockBlobClient(OutputBlob(plan.Request.Model, plan.Request.FileName));
        await output.CommitBlockListAsync(blockIds, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } }, ct);
        return output.Name;
    }

    public async Task<string> ReportAsync(BatchPlan plan, CancellationToken ct)
    {
        TenantStorage storage = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        string name = ReportBlob(plan.Request.Model, plan.Request.FileName);
        string text = $"Lepton could not score '{plan.Request.BlobName}' (run {plan.Request.RunId}). No output was written.\n\n" +
            string.Concat(plan.Problems.Select(p => $"- {p}\n"));
        await storage.Predictions.GetBlobClient(name).UploadAsync(BinaryData.FromString(text), overwrite: true, ct);
        return name;
    }

    private static BlobClient Source(TenantStorage storage, BatchRequest request) => storage.Predictions.GetBlobClient(request.BlobName);

    private static BlobRequestConditions IfMatch(BatchRequest request) => BlobConditions.IfMatch(request.ETag);
}
