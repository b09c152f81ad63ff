using System.Text;
using Lepton.Errors;
using Lepton.Learning;
using Lepton.Storage;

namespace Lepton.Training;

/// <summary>
/// Online training: the production version of a network is trained further from its own weights on a new dataset
/// version's rows (a few epochs, its featurization unchanged), then judged against the version it started from on the
/// same held-out rows — a seeded 20% of the new version and of the data the production version learned from — and
/// promoted only if the agreed metric does not get worse there.
/// </summary>
public sealed class OnlineTraining(TrainingService training, ModelRegistry registry)
{
    public const int DefaultEpochs = 10;
    public const double HoldOut = 0.2;

    /// <summary>
    /// Checks a request before it is accepted: a network in production, a published dataset version with the model's
    /// columns; returns both, so the run resolves the version once.
    /// </summary>
    public async Task<(ModelVersion Production, DatasetRef Data)> ValidateAsync(string tenant, string model, string dataset, int? epochs, CancellationToken ct = default)
    {
        if (epochs is < 1 or > 500)
        {
            throw LeptonException.BadRequest("'epochs' must be between 1 and 500.");
        }

        ModelVersion production = await registry.GetProductionAsync(tenant, model, ct);
        if (!ParametricEngine.Handles(production.Configuration))
        {
            throw LeptonException.Conflict(
                $"Model '{model}' v{production.Version} is a {production.Configuration.Trainer} model; only Lepton's networks (mlp-*, sgd-*) learn online. Train a new version instead.");
        }

        // Checked here, before the run is accepted: a version without the model's columns failed the run later with
        // "Column 'a' is missing from the data", naming neither the data set nor what the model needs.
        DatasetRef data = await training.ResolveAsync(tenant, dataset, ct);
        Ingestion.DatasetSchema schema = await training.SchemaAsync(tenant, data, ct);
        string[] missing = production.Inputs.Select(i => i.Name).Append(production.Label).Where(n => schema.Columns.All(c => c.Name != n)).ToArray();
        if (missing.Length > 0)
        {
            throw LeptonException.BadRequest(
                $"Dataset '{data.Dataset}' v{data.Version} lacks column(s) {string.Join(", ", missing.Select(n => $"'{n}'"))} that model '{model}' v{production.Version} learns from.");
        }

        return (production, data);
    }

    public async Task<OnlineUpdateResult> TrainAsync(OnlineUpdateRequest request, CancellationToken ct = default)
    {
        (ModelVersion production, DatasetRef next) = await ValidateAsync(request.TenantId, request.Model, request.Dataset, request.Epochs, ct);
        byte[] stored = (await registry.Artifact(ModelRegistry.ArtifactPrefix(request.TenantId, request.Model, production.RunId) + TrainingService.ParametricModelFileName)
            .DownloadContentAsync(ct)).Value.Content.ToArray();
        ParametricModel start = ParametricEngine.ReadModel(stored);
        string newData = await training.DataFileAsync(request.TenantId, [next], ct);
        string previousData = await training.DataFileAsync(request.TenantId, production.Datasets, ct);
        var schema = new Ingestion.DatasetSchema(
            production.Inputs.Select(i => new Ingestion.ColumnSchema(i.Name, i.Type switch
            {
                "bool" => Ingestion.ColumnKind.Boolean,
                "string" => Ingestion.ColumnKind.Categorical,
                _ => Ingestion.ColumnKind.Numeric,
            }, false)).Append(new Ingestion.ColumnSchema(production.Label, Ingestion.ColumnKind.Categorical, true)).ToList(), production.Label, production.Task);
        var trainRequest = new TrainRequest(request.TenantId, request.Model, [$"{next.Dataset}@{next.Version}"], production.Label, production.Task, production.Metric,
            5, [production.Configuration.Id], request.RunId) { ClassWeights = production.ClassWeights };
        var plan = new TrainingPlan(trainRequest, [next], schema, production.Label, production.Task, production.Metric, 5, TrainingService.Seed, 0,
            [production.Configuration]);

        string work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "lepton-online", request.RunId)).FullName;
        try
        {
            (string newTrain, string newHeld) = Split(plan, newData, Path.Combine(work, "new"));
            (_, string previousHeld) = Split(plan, previousData, Path.Combine(work, "previous"));
            string both = Path.Combine(work, "both.csv");
            await File.WriteAllLinesAsync(both, File.ReadLines(newHeld).Concat(File.ReadLines(previousHeld).Skip(1)), ct);
            var evaluation = new Dictionary<string, string> { ["new"] = newHeld, ["previous"] = previousHeld, ["both"] = both };
            FinalModel updated = await Task.Run(() => ParametricEngine.TrainFinal(plan, production.Configuration, start.Classes, newTrain, evaluation, start,
                request.Epochs ?? DefaultEpochs), ct);
            Dictionary<string, double> baseline = ParametricEngine.Evaluate(plan, start, both);
            double before = baseline[plan.Metric], after = updated.Evaluation!["both"][plan.Metric];
            bool promote = !TaskMetrics.IsBetter(plan.Metric, before, after);
            string reason = promote
                ? $"warm-started from v{production.Version}: {plan.Metric} {after:G4} on held-out new and previous rows is not worse than v{production.Version}'s {before:G4}"
                : $"warm-started from v{production.Version}: {plan.Metric} {after:G4} on held-out new and previous rows is worse than v{production.Version}'s {before:G4}; kept as candidate";

            string prefix = ModelRegistry.ArtifactPrefix(request.TenantId, request.Model, request.RunId);
            await registry.Artifact(prefix + "model.onnx").UploadAsync(BinaryData.FromBytes(updated.Onnx), overwrite: true, ct);
            await registry.Artifact(prefix + TrainingService.ParametricModelFileName).UploadAsync(BinaryData.FromBytes(updated.ModelZip), overwrite: true, ct);
            var artifact = new TrainedArtifact(prefix + "model.onnx", TrainingEngine.Sha256(updated.Onnx), prefix + TrainingService.ParametricModelFileName, updated.Inputs,
                updated.ClassLabels, updated.ParityMaxDifference, updated.ParityRows, updated.Evaluation);
            var results = new Dictionary<string, IReadOnlyDictionary<string, double>>(updated.Evaluation) { [$"v{production.Version} on both"] = baseline };
            return new OnlineUpdateResult(request, plan, production.Version, artifact, results, after, promote, reason);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    public async Task<ModelVersion> RegisterAsync(OnlineUpdateResult result, CancellationToken ct = default)
    {
        ModelVersion production = await registry.GetVersionAsync(result.Request.TenantId, result.Request.Model, result.BaseVersion, ct);
        var proposed = production with
        {
            Version = 0,
            Stage = "",
            MetricValue = result.MetricValue,
            Leaderboard = [],
            Datasets = result.Plan.Data,
            OnnxBlob = result.Artifact.OnnxBlob,
            OnnxSha256 = result.Artifact.OnnxSha256,
            RunId = result.Request.RunId,
            PromotionReason = "",
            Evaluation = result.Evaluation,
            Revocation = null,
            WarmStartedFrom = result.BaseVersion,
        };
        return await registry.RegisterAsync(result.Request.TenantId, proposed, ct, decision: (result.Promote, result.Reason));
    }

    /// <summary>A seeded, stratified 20% of the rows held out (the rest to train on), as two files.</summary>
    private static (string Train, string HeldOut) Split(TrainingPlan plan, string data, string prefix)
    {
        List<string> labels = FoldSplitter.ReadColumn(data, plan.Label);
        bool[] held = Collaborations.EvaluationSplit.Assign(labels, HoldOut, plan.Seed, plan.Task != MlTasks.Regression);
        string[] lines = File.ReadAllLines(data, Encoding.UTF8);
        string train = prefix + ".train.csv", heldOut = prefix + ".held.csv";
        File.WriteAllLines(train, lines.Take(1).Concat(lines.Skip(1).Where((_, i) => !held[i])));
        File.WriteAllLines(heldOut, lines.Take(1).Concat(lines.Skip(1).Where((_, i) => held[i])));
        return (train, heldOut);
    }
}
