using Lepton.Storage;
using System.Text.Json;

namespace Lepton.Ingestion;

/// <summary>The optional ingest/&lt;dataset&gt;/dataset.json: what the owner says about the data.</summary>
/// <remarks><see cref="Online"/>: each new version trains the model's production network further (no full retrain).</remarks>
public sealed record DatasetSpec(string? Label = null, string? Task = null, string? Metric = null, bool AutoTrain = false, string? Model = null, bool Online = false)
{
    public static readonly string[] Tasks = ["binary", "multiclass", "regression"];


    /// <summary>Parses the file; a problem names what is wrong instead of throwing.</summary>
    public static (DatasetSpec? Spec, IngestProblem? Problem) Parse(string json)
    {
        try
        {
            DatasetSpec? spec = JsonSerializer.Deserialize<DatasetSpec>(json, LeptonJson.Handwritten);
            if (spec is null)
            {
                return (null, new IngestProblem("invalid-dataset-json", "dataset.json is empty.", []));
            }

            if (spec.Task is not null && !Tasks.Contains(spec.Task))
            {
                return (null, new IngestProblem("invalid-dataset-json", $"dataset.json: task '{spec.Task}' is not one of {string.Join(", ", Tasks)}.", []));
            }

            return (spec, null);
        }
        catch (JsonException e)
        {
            return (null, new IngestProblem("invalid-dataset-json", $"dataset.json is not valid JSON: {e.Message}", []));
        }
    }
}
