using Lepton.Telemetry;
using Lepton.Audit;
using System.Security.Cryptography;
using System.Text;
using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Storage;

namespace Lepton.Training;

/// <summary>
/// The storage side of training, one method per activity. Curated data is fetched by reference into a local cache
/// (per tenant and immutable dataset version), folds are cut from it deterministically, and only metrics and artifact
/// references leave an activity.
/// </summary>
public sealed class TrainingService(
    DatasetCatalog catalog, DatasetQueries datasets, TenantStorageFactory tenants, ModelRegistry registry, Collaborations.PooledTraining pooled, Audit.AuditLog audit,
    LocalFileCache files, Microsoft.Extensions.Options.IOptions<HeavyTrainingOptions> heavy, Runs.StepAttempts attempts)
{
    public const int Seed = 42;


    public async Task<TrainingPlan> PrepareAsync(TrainRequest request, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(request.Model))
        {
            throw LeptonException.BadRequest($"'name' must be {Names.DatasetRule}.");
        }

        if (request.Collaboration is not null)
        {
            return await pooled.PrepareAsync(request, ct);
        }

        if (request.Datasets.Count == 0)
        {
            throw LeptonException.BadRequest("'datasets' must name at least one dataset (\"name\" or \"name@version\").");
        }

        var refs = new List<DatasetRef>();
        DatasetSchema? schema = null;
        foreach (string entry in request.Datasets)
        {
            DatasetRef data = await ResolveAsync(request.TenantId, entry, ct);
            DatasetSchema current = await datasets.ReadSchemaAsync(request.TenantId, data.Dataset, data.Version, ct);
            if (schema is not null && !schema.Columns.Select(c => (c.Name, c.Kind)).SequenceEqual(current.Columns.Select(c => (c.Name, c.Kind))))
            {
                throw LeptonException.BadRequest($"Dataset '{entry}' has different columns than '{request.Datasets[0]}'; pooled datasets must share one schema.");
            }

            schema ??= current;
            refs.Add(data);
        }

        string label = request.Label ?? schema!.Label ?? throw LeptonException.BadRequest("'label' is required: the dataset names none.");
        ColumnSchema labelColumn = schema!.Columns.FirstOrDefault(c => c.Name == label)
            ?? throw LeptonException.BadRequest($"The label column '{label}' is not in the dataset. Columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
        string path = await DataFileAsync(request.TenantId, refs, ct);
        List<string> labels = FoldSplitter.ReadColumn(path, label);
        string task = request.Task ?? (label == schema.Label ? schema.Task : null) ?? InferTask(labelColumn, labels);
        if (!DatasetSpec.Tasks.Contains(task))
        {
            throw LeptonException.BadRequest($"'task' must be one of {string.Join(", ", DatasetSpec.Tasks)}.");
        }

        string metric = request.Metric ?? TaskMetrics.DefaultMetric(task);
        if (!TaskMetrics.Allowed(task).Contains(metric))
        {
            throw LeptonException.BadRequest($"'metric' for {task} must be one of {string.Join(", ", TaskMetrics.Allowed(task))}.");
        }

        if (request.ClassWeights is not null && task == MlTasks.Regression)
        {
            throw ClassWeighting.NotForRegression();
        }

        FoldSplitter.Validate(labels, request.Folds, task, label);
        var plan = new TrainingPlan(request, refs, schema with { Label = label, Task = task }, label, task, metric, request.Folds, Seed, labels.Count,
            CandidateCatalog.Plan(task, request.Candidates));
        plan = plan with
        {
            HeavyCandidates = plan.Candidates.Where(c => HeavyTrainingRule.IsHeavy(plan, c, heavy.Value)).Select(c => c.Id).ToList(),
            HeavyTimeout = heavy.Value.Timeout,
        };
        await audit.AppendAsync(request.TenantId, $"system:{request.RunId}", AuditActions.TrainingStarted, $"{request.TenantId}/models/{request.Model}",
            $"{plan.Candidates.Count} candidates x {plan.Folds} folds on {string.Join(", ", refs.Select(r => $"{r.Dataset}@{r.Version}"))}", ct: ct);
        return plan;
    }

    /// <summary>One fold; a fold that kept killing the host is given up as a failed fold (its candidate drops out, the run goes on).</summary>
    public Task<FoldResult> EvaluateFoldAsync(FoldRequest request, CancellationToken ct = default) =>
        attempts.RunAsync(request.Plan.Request.RunId, $"fold-{request.Candidate.Id}-{request.Fold}", () => EvaluateFoldOnceAsync(request, ct),
            starts => FoldResult.Failed(request.Candidate.Id, request.Fold, Runs.StepAttempts.GivenUpMessage($"Fold {request.Fold} of {request.Candidate.Id}", starts)), ct);

    private async Task<FoldResult> EvaluateFoldOnceAsync(FoldRequest request, CancellationToken ct)
    {
        TrainingPlan plan = request.Plan;
        string data = await DataFileAsync(plan, ct);
        (string train, string test) = await FoldFilesAsync(plan, data, request.Fold, ct);
        LeptonTelemetry.FoldsTrained.Add(1, new KeyValuePair<string, object?>(LeptonTelemetry.TenantTag, plan.Request.TenantId));
        return await Task.Run(() => TrainingEngine.EvaluateFold(plan, request.Candidate, train, test, request.Fold), ct);
    }

    // Fold files being cut in this process, by folds directory.
    private static readonly SingleFlight<string, bool> FoldCuts = new();

    /// <summary>
    /// A fold's files next to the run's data file. A run's candidates start together and all want fold 0 first: the first
    /// to find it missing cuts every fold in one pass while the others wait for it, instead of each cutting the same
    /// folds at once (which made a candidate's first fold take several times its others on two cores).
    /// </summary>
    private static async Task<(string Train, string Test)> FoldFilesAsync(TrainingPlan plan, string data, int fold, CancellationToken ct)
    {
        string directory = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(data)!, $"folds-{plan.Folds}-{plan.Seed}-{plan.Label}")).FullName;
        (string train, string test) = FoldSplitter.FoldFiles(directory, fold);
        if (!File.Exists(train) || !File.Exists(test))
        {
            await FoldCuts.RunAsync(directory, () => Task.Run(() =>
            {
                if (Enumerable.Range(0, plan.Folds).Select(f => FoldSplitter.FoldFiles(directory, f)).All(f => File.Exists(f.Train) && File.Exists(f.Test)))
                {
                    return true; // cut by a caller that finished between our look and this one
                }

                int[] assignment = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, plan.Label), plan.Folds, plan.Seed, stratify: plan.Task != MlTasks.Regression);
                FoldSplitter.WriteFolds(data, assignment, plan.Folds, directory);
                return true;
            }), ct);
        }

        return (train, test);
    }

    /// <summary>
    /// Evaluates a candidate's folds one after another. A fold that fails becomes a result with its error (as a per-fold
    /// activity that fails after its retries does), so the other folds' work is kept; refused data use still stops the batch.
    /// </summary>
    public Task<IReadOnlyList<FoldResult>> EvaluateFoldsAsync(FoldBatchRequest request, CancellationToken ct = default) =>
        // One start record for the whole batch, not one per fold: a fold that kills the host drops its candidate either way.
        attempts.RunAsync(request.Plan.Request.RunId, $"folds-{request.Candidate.Id}-{string.Join('.', request.Folds)}", () => EvaluateFoldsOnceAsync(request, ct),
            starts => request.Folds.Select(fold => FoldResult.Failed(request.Candidate.Id, fold,
                Runs.StepAttempts.GivenUpMessage($"The folds of {request.Candidate.Id}", starts))).ToList(), ct);

    private async Task<IReadOnlyList<FoldResult>> EvaluateFoldsOnceAsync(FoldBatchRequest request, CancellationToken ct)
    {
        var results = new List<FoldResult>(request.Folds.Count);
        foreach (int fold in request.Folds)
        {
            try
            {
                results.Add(await EvaluateFoldOnceAsync(new FoldRequest(request.Plan, request.Candidate, fold), ct));
            }
            catch (Exception e) when (e is not (OperationCanceledException or Lepton.Security.DataUseDeniedException or IOException or Azure.RequestFailedException))
            {
                results.Add(FoldResult.Failed(request.Candidate.Id, fold, e.Message));
            }
        }

        return results;
    }

    /// <summary>The winner on all rows; if that kept killing the host, the run fails with that reason rather than trying forever.</summary>
    public Task<TrainedArtifact> TrainFinalAsync(FinalTrainingRequest request, CancellationToken ct = default) =>
        attempts.RunAsync(request.Plan.Request.RunId, "final", () => TrainFinalOnceAsync(request, ct),
            starts => throw new InvalidOperationException(Runs.StepAttempts.GivenUpMessage($"Training the final model ({request.Winner.Id})", starts)), ct);

    private async Task<TrainedArtifact> TrainFinalOnceAsync(FinalTrainingRequest request, CancellationToken ct)
    {
        TrainingPlan plan = request.Plan;
        string data = await DataFileAsync(plan, ct);
        Dictionary<string, string>? evaluation = null;
        if (plan.Collaboration is not null)
        {
            // The fixed evaluation set judges the final model: all members' held-out rows together, and each member's alone.
            IReadOnlyList<Collaborations.MemberFiles> files = await pooled.EvaluationFilesAsync(plan, ct);
            evaluation = files.ToDictionary(f => f.Member, f => f.EvaluationFile);
            evaluation[AllMembers] = await pooled.EvaluationFileAsync(plan, files, ct);
        }

        FinalModel model = await Task.Run(() => TrainingEngine.TrainFinal(plan, request.Winner, data, Path.GetDirectoryName(data)!, evaluation), ct);
        string prefix = ModelRegistry.ArtifactPrefix(OwnerOf(plan), plan.Request.Model, plan.Request.RunId);
        await registry.Artifact(prefix + "model.onnx").UploadAsync(BinaryData.FromBytes(model.Onnx), overwrite: true, ct);
        // ML.NET candidates keep their model.zip; Lepton's networks their parameters and featurization (for warm starts).
        string modelFile = ParametricEngine.Handles(request.Winner) ? ParametricModelFileName : "model.zip";
        await registry.Artifact(prefix + modelFile).UploadAsync(BinaryData.FromBytes(model.ModelZip), overwrite: true, ct);
        if (plan.Collaboration is not null)
        {
            // Contribution runs re-create this version's exact data split and configuration from its plan (references only).
            await registry.Artifact(prefix + PlanFileName).UploadAsync(BinaryData.FromObjectAsJson(plan, LeptonJson.Options), overwrite: true, ct);
        }
        return new TrainedArtifact(prefix + "model.onnx", TrainingEngine.Sha256(model.Onnx), prefix + modelFile, model.Inputs, model.ClassLabels,
            model.ParityMaxDifference, model.ParityRows, model.Evaluation);
    }

    public Task<ModelVersion> RegisterAsync(RegisterRequest request, CancellationToken ct = default)
    {
        TrainingPlan plan = request.Plan;
        LeaderboardEntry winner = request.Leaderboard.First(e => e.CandidateId == request.Winner.Id);
        string meaning = plan.Task switch
        {
            MlTasks.Binary => $"PredictedLabel: true when '{plan.Label}' is predicted positive ({string.Join(" < ", request.Artifact.ClassLabels)}); Probability: P(positive); Score: raw margin",
            MlTasks.Multiclass => $"PredictedLabel: class index into classLabels; Score: one probability per class, in classLabels order",
            _ => $"Score: the predicted '{plan.Label}'",
        };
        IReadOnlyList<MemberLineage>? lineage = plan.Collaboration?.Members.SelectMany(m => m.Datasets.Select(d =>
            new MemberLineage(m.Member, d.Dataset, d.Version, d.SourceSha256, d.GrantId, m.TrainRows, m.EvaluationRows))).ToList();
        var proposed = new ModelVersion(plan.Request.Model, 0, "", plan.Task, plan.Metric, winner.Metrics[plan.Metric].Mean, plan.Label, request.Winner,
            request.Leaderboard, plan.Data, request.Artifact.OnnxBlob, request.Artifact.OnnxSha256, request.Artifact.Inputs, meaning,
            request.Artifact.ClassLabels, default, plan.Request.RunId, "", lineage, request.Artifact.Evaluation, plan.Collaboration?.EvaluationSetSha256,
            ClassWeights: TrainingEngine.Weighted(plan) ? plan.Request.ClassWeights : null);
        IReadOnlyList<string>? members = plan.Collaboration?.Members.Select(m => m.Member).ToList();
        return registry.RegisterAsync(OwnerOf(plan), proposed, ct, auditTenants: members);
    }

    public const string PlanFileName = "plan.json";

    public const string ParametricModelFileName = "model.params.json";

    /// <summary>The key of the fixed evaluation set of all members together, next to each member's own.</summary>
    public const string AllMembers = "*";

    /// <summary>Whose registry the run's model goes to: the tenant's, or the collaboration's.</summary>
    public static string OwnerOf(TrainingPlan plan) =>
        plan.Collaboration is { } c ? Collaborations.ModelOwners.ForCollaboration(c.Collaboration) : plan.Request.TenantId;

    private Task<string> DataFileAsync(TrainingPlan plan, CancellationToken ct) =>
        plan.Collaboration is null ? DataFileAsync(plan.Request.TenantId, plan.Data, ct) : pooled.TrainFileAsync(plan, null, ct);

    /// <summary>The schema of a resolved dataset version.</summary>
    internal Task<DatasetSchema> SchemaAsync(string tenant, DatasetRef data, CancellationToken ct) =>
        datasets.ReadSchemaAsync(tenant, data.Dataset, data.Version, ct);

    internal async Task<DatasetRef> ResolveAsync(string tenant, string entry, CancellationToken ct)
    {
        string[] parts = entry.Split('@');
        string dataset = parts[0];
        IReadOnlyList<DatasetVersionRecord> versions = Names.IsValidDataset(dataset) ? await catalog.ListVersionsAsync(tenant, dataset, ct) : [];
        DatasetVersionRecord? chosen = parts.Length == 1 ? versions.LastOrDefault()
            : int.TryParse(parts[1], out int v) ? versions.FirstOrDefault(x => x.Version == v) : null;
        return chosen is null
            ? throw LeptonException.BadRequest($"Dataset '{entry}' has no published version.")
            : new DatasetRef(dataset, chosen.Version, chosen.DataBlob);
    }

    /// <summary>The pooled curated rows as one local CSV, cached per tenant and immutable versions; concurrent callers share one download.</summary>
    internal async Task<string> DataFileAsync(string tenant, IReadOnlyList<DatasetRef> refs, CancellationToken ct)
    {
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', refs.Select(r => $"{r.Dataset}@{r.Version}")))))[..16];
        string directory = Path.Combine(files.Root, "training", tenant, key);
        string path = Path.Combine(directory, "data.csv");
        await files.EnsureAsync(path, async () =>
        {
            Directory.CreateDirectory(directory);
            TenantStorage storage = await tenants.ForTenantAsync(tenant, ct);
            await CuratedVersions.WriteAsync(refs.Select(r => storage.Curated.GetBlobClient(r.DataBlob)).ToList(), path, ct);
        }, ct);
        return path;
    }

    private static string InferTask(ColumnSchema label, List<string> values) =>
        SchemaInference.InferTask(label.Kind, values.Distinct(StringComparer.Ordinal).ToList(), values.Count);
}
