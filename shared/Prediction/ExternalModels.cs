using Lepton.Errors;
using Lepton.Storage;
using Lepton.Training;
using Microsoft.Extensions.Options;

namespace Lepton.Prediction;

/// <summary>
/// Bring your own model: an ONNX file trained elsewhere becomes a version of a tenant's model after it is shown to load
/// and to take inputs this API can feed ([n,1] float, bool or string tensors). It is then served like a trained one.
/// </summary>
public sealed class ExternalModels(ModelRegistry registry, IOptions<PredictionOptions> options)
{
    public const string ExternalMetric = "external";

    public async Task<ModelVersion> RegisterAsync(string tenant, string model, string? task, string? classLabels, bool promote, Stream body, string actor, CancellationToken ct)
    {
        if (!Names.IsValidDataset(model))
        {
            throw LeptonException.BadRequest($"The model name must be {Names.DatasetRule}.");
        }

        if (task is null || !Ingestion.DatasetSpec.Tasks.Contains(task))
        {
            throw LeptonException.BadRequest($"Query parameter 'task' must be one of {string.Join(", ", Ingestion.DatasetSpec.Tasks)}.");
        }

        byte[] onnx = await ReadLimitedAsync(body, options.Value.MaxOnnxBytes, ct);
        IReadOnlyList<ModelInput> inputs;
        using (var scorer = new OnnxScorer(onnx))
        {
            ModelInput? unsupported = scorer.Inputs.FirstOrDefault(i => i.Type is not ("float" or "bool" or "string"));
            if (unsupported is not null)
            {
                throw LeptonException.BadRequest($"Input '{unsupported.Name}' has type {unsupported.Type}; inputs must be float, bool or string tensors of shape [n,1].");
            }

            if (!scorer.HasScoreOutput)
            {
                throw LeptonException.BadRequest("The model needs a 'Score.output' output, or exactly one float output, to be served.");
            }

            inputs = scorer.Inputs;
        }

        string runId = $"external-{Guid.NewGuid():N}";
        string blob = ModelRegistry.ArtifactPrefix(tenant, model, runId) + "model.onnx";
        await registry.Artifact(blob).UploadAsync(BinaryData.FromBytes(onnx), overwrite: true, ct);
        string[] classes = (classLabels ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // An external model has no cross-validated score: it competes with 0, so only a first version becomes production.
        var proposed = new ModelVersion(model, 0, "", task, ExternalMetric, 0, "", new CandidateSpec("external", "external", new Dictionary<string, double>()),
            [], [], blob, TrainingEngine.Sha256(onnx), inputs, "as declared by the uploader", classes, default, runId, "");
        return await registry.RegisterAsync(tenant, proposed, ct, actor, promote);
    }

    private static async Task<byte[]> ReadLimitedAsync(Stream body, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw LeptonException.TooLarge($"The ONNX file is larger than {limit:N0} bytes (Lepton:Prediction:MaxOnnxBytes).");
            }
        }

        return buffer.Length == 0 ? throw LeptonException.BadRequest("Send the .onnx file as the request body.") : buffer.ToArray();
    }
}
