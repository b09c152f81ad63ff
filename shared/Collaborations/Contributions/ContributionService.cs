using Lepton.Api;
using Microsoft.Extensions.Caching.Memory;
using Lepton.Audit;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lepton.Errors;
using Lepton.Storage;
using Lepton.Training;

namespace Lepton.Collaborations.Contributions;

/// <summary>
/// Contribution runs of a collaboration model: the plan (the version's own data split and winning configuration), one
/// coalition's utility (train on the coalition's rows, score on the fixed evaluation set; cached by coalition, data
/// versions and configuration), and the stored, audited, re-checkable report.
/// </summary>
public sealed class ContributionService(
    CollaborationStore collaborations, ModelRegistry registry, PooledTraining pooled, StorageClients storage, Federated.FederatedService federated, IMemoryCache cache)
{
    public const string Container = "collaborations";
    internal const string CacheTable = "coalitioncache";

    // Plans of runs in progress on this worker; a finished run's plan is dropped when its report is stored.
    private static readonly TimeSpan PlanLifetime = TimeSpan.FromHours(1);

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(Container);

    private TableClient Cache => storage.PlatformTable(CacheTable);

    public async Task EnsureCreatedAsync(CancellationToken ct = default)
    {
        await Blobs.CreateIfNotExistsAsync(cancellationToken: ct);
        await Cache.CreateIfNotExistsAsync(ct);
    }

    /// <summary>Checks a request before a run starts: an active collaboration, a known method, a model version to explain.</summary>
    public async Task<ContributionRequest> CreateRequestAsync(Collaboration c, string model, ContributionBody body, string tenant, string actor, CancellationToken ct = default)
    {
        RequireActive(c);
        string method = body.Method ?? c.Allocation;
        if (!AllocationMethods.All.Contains(method))
        {
            throw LeptonException.BadRequest($"'method' must be one of {string.Join(", ", AllocationMethods.All)}.");
        }

        if (body.MaxSamples is < 1 or > 100_000)
        {
            throw LeptonException.BadRequest("'maxSamples' must be between 1 and 100,000.");
        }

        if (body.Tolerance is { } t && !(t is > 0 and < 1))
        {
            throw LeptonException.BadRequest("'tolerance' (the confidence half-width as a fraction of v(N) − v(∅)) must be between 0 and 1.");
        }

        ModelVersion version = await ResolveVersionAsync(c, model, body.Version, ct);
        if (version.Members is not { Count: > 0 })
        {
            throw LeptonException.Conflict($"Model '{model}' v{version.Version} was not trained on the members' data; contributions need a pooled or federated model.");
        }

        if (version.Federated is { SecureAggregation: true })
        {
            throw LeptonException.Conflict(
                $"Model '{model}' v{version.Version} was trained with secure aggregation: no member's own update was ever seen, so contributions cannot be computed from them.");
        }

        // Truncation at 2% of v(N) − v(∅): on the 10-member benchmark it needed a fifth fewer trainings than 0.5% for the same error.
        var sampling = new SamplingOptions(body.MaxSamples ?? 64, body.Tolerance ?? 0.01, Truncation: 0.02);
        return new ContributionRequest($"contrib-{c.Id}-{Guid.NewGuid():N}", tenant, c.Id, model, version.Version, method, body.Seed ?? 1, sampling, actor);
    }

    /// <summary>Plans the run and stores the plan for its activities; returns only the players and their rows.</summary>
    public async Task<ContributionPlayers> PrepareAsync(ContributionRequest request, CancellationToken ct = default)
    {
        Collaboration c = await collaborations.FindAsync(request.Collaboration, ct) ?? throw LeptonException.NotFound("No such resource.");
        ModelVersion version = await registry.GetVersionAsync(c.ModelOwner, request.Model, request.Version, ct);
        (ContributionPlan plan, Federated.FederatedContribution? rounds) = version.Federated is null ? (await PlanAsync(request, ct), null) : await PlanFederatedAsync(c, request, version, ct);
        await Blobs.GetBlobClient(PlanBlob(request.Collaboration, request.RunId)).UploadAsync(BinaryData.FromObjectAsJson(plan, LeptonJson.Options), overwrite: true, ct);
        cache.Put((nameof(ContributionPlan), request.RunId), plan, PlanLifetime);
        return new ContributionPlayers(plan.Players, plan.Rows, rounds);
    }

    /// <summary>
    /// A federated model's contributions come from its stored round updates: the players are the members whose updates
    /// made it, and a coalition's utility is its rebuilt models' metric on the members' held-out rows, averaged over rounds.
    /// </summary>
    private async Task<(ContributionPlan, Federated.FederatedContribution)> PlanFederatedAsync(Collaboration c, ContributionRequest request, ModelVersion version, CancellationToken ct)
    {
        RequireActive(c);
        (Federated.FederatedPlan fed, IReadOnlyList<Federated.RoundSummary> history) = await federated.ReadRunAsync(c.Id, version.RunId, ct);
        string[] players = fed.Draft.Members.Select(m => m.Member).Where(m => history.Any(h => h.Reporting.Contains(m))).ToArray();
        var schema = new Ingestion.DatasetSchema([.. fed.Draft.Features, new Ingestion.ColumnSchema(fed.Draft.Label, Ingestion.ColumnKind.Categorical, true)],
            fed.Draft.Label, fed.Draft.Task);
        var trainRequest = new TrainRequest(request.TenantId, request.Model, [], fed.Draft.Label, fed.Draft.Task, fed.Draft.Metric, 2, [], request.RunId, c.Id);
        var plan = new TrainingPlan(trainRequest, [], schema, fed.Draft.Label, fed.Draft.Task, fed.Draft.Metric, 2, fed.Draft.Request.Settings.Seed,
            players.Sum(p => fed.Rows[p]), [], null);
        // The held-out rows are fixed by the members' dataset versions, the fraction and the seed; this names them.
        string evaluationSet = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', fed.Draft.Members.SelectMany(m =>
            m.Datasets.Select(d => $"{m.Member}:{d.Dataset}@{d.Version}:{d.SourceSha256}"))) + $"|{fed.Draft.EvaluationFraction:R}|{fed.Draft.Request.Settings.Seed}")));
        await collaborations.AuditMembersAsync(c, request.Actor, AuditActions.ContributionStarted, $"{request.Method} over {players.Length} members from {history.Count} federated rounds",
            ct, resource: $"collaborations/{c.Id}/models/{request.Model}/v{request.Version}/contributions/{request.RunId}");
        var contributionPlan = new ContributionPlan(request, plan, version.Configuration, players, players.Select(p => fed.Rows[p]).ToList(),
            TaskMetrics.HigherIsBetter(fed.Draft.Metric), 0, evaluationSet);
        return (contributionPlan, new Federated.FederatedContribution(version.RunId, history.Select(h => h.Round).ToList(), fed.Draft.Task, fed.Draft.Metric, fed.Classes.Count));
    }

    private async Task<ContributionPlan> PlanAsync(ContributionRequest request, CancellationToken ct)
    {
        Collaboration c = await collaborations.FindAsync(request.Collaboration, ct) ?? throw LeptonException.NotFound("No such resource.");
        RequireActive(c);
        ModelVersion version = await registry.GetVersionAsync(c.ModelOwner, request.Model, request.Version, ct);
        BinaryData stored = (await registry.Artifact(ModelRegistry.ArtifactPrefix(c.ModelOwner, request.Model, version.RunId) + TrainingService.PlanFileName)
            .DownloadContentAsync(ct)).Value.Content;
        TrainingPlan original = stored.ToObjectFromJson<TrainingPlan>(LeptonJson.Options)!;
        TrainingPlan plan = original with { Request = original.Request with { RunId = request.RunId } };
        IReadOnlyList<MemberFiles> evaluation = await pooled.EvaluationFilesAsync(plan, ct);
        string evaluationSet = CollaborationRows.Sha256OfFiles(evaluation.Select(f => f.EvaluationFile));
        if (evaluationSet != plan.Collaboration!.EvaluationSetSha256)
        {
            throw new InvalidOperationException("The evaluation set could not be reproduced from the model's plan (its hash differs); the contribution would not be comparable.");
        }

        List<string> labels = evaluation.SelectMany(f => FoldSplitter.ReadColumn(f.EvaluationFile, plan.Label)).ToList();
        await collaborations.AuditMembersAsync(c, request.Actor, AuditActions.ContributionStarted, $"{request.Method} over {plan.Collaboration.Members.Count} members",
            ct, resource: $"collaborations/{c.Id}/models/{request.Model}/v{request.Version}/contributions/{request.RunId}");
        return new ContributionPlan(request, plan, version.Configuration, plan.Collaboration.Members.Select(m => m.Member).ToList(),
            plan.Collaboration.Members.Select(m => m.TrainRows).ToList(), TaskMetrics.HigherIsBetter(plan.Metric),
            ConstantPredictor.Score(plan.Task, plan.Metric, labels), evaluationSet);
    }

    /// <summary>Trains the winning configuration on the coalition's rows and scores it on the fixed evaluation set.</summary>
    public async Task<CoalitionScore> EvaluateCoalitionAsync(CoalitionRequest request, CancellationToken ct = default)
    {
        ContributionPlan p = await StoredPlanAsync(request.Collaboration, request.RunId, ct);
        if (request.Mask == 0)
        {
            return Score(p, 0, p.EmptyScore, false, "no data: the best constant prediction");
        }

        string[] members = Coalitions.Players(request.Mask).Select(i => p.Players[i]).ToArray();
        // The grants are checked (and the reads audited) whether or not the score is cached: a revoked grant stops the run.
        string train = await pooled.TrainFileAsync(p.Plan, members, ct);
        string evaluation = await pooled.EvaluationFileAsync(p.Plan, await pooled.EvaluationFilesAsync(p.Plan, ct), ct);
        string key = CacheKey(p, members);
        NullableResponse<TableEntity> cached = await Cache.GetEntityIfExistsAsync<TableEntity>(p.Request.Collaboration, key, cancellationToken: ct);
        if (cached.HasValue)
        {
            return Score(p, request.Mask, cached.Value!.GetDouble("Score") ?? double.NaN, true, cached.Value.GetString("Note"));
        }

        (Dictionary<string, double>? metrics, string? error) = await Task.Run(() => TrainingEngine.TrainAndEvaluate(p.Plan, p.Configuration, train, evaluation), ct);
        (double score, string? note) = metrics is not null && metrics.TryGetValue(p.Plan.Metric, out double value)
            ? (value, null)
            : (p.EmptyScore, $"could not train ({error ?? "metric undefined"}); scored as the constant prediction");
        await Cache.UpsertEntityAsync(new TableEntity(p.Request.Collaboration, key) { ["Score"] = score, ["Note"] = note, ["Members"] = string.Join(',', members) },
            cancellationToken: ct);
        return Score(p, request.Mask, score, false, note);
    }

    public async Task<ContributionReport> StoreReportAsync(ReportRequest request, CancellationToken ct = default)
    {
        ContributionPlan p = await StoredPlanAsync(request.Collaboration, request.RunId, ct);
        ContributionRequest r = p.Request;
        double[] shares = Shares.Normalize(request.Values.Values);
        var members = p.Players.Select((m, i) => new MemberContribution(m, request.Values.Values[i],
            request.Values.StandardErrors is { } se && double.IsFinite(se[i]) ? se[i] : null, shares[i], p.Rows[i])).ToList();
        ulong grand = Coalitions.Grand(p.Players.Count);
        var table = request.Coalitions.OrderBy(s => Coalitions.Size(s.Mask)).ThenBy(s => s.Mask)
            .Select(s => new CoalitionEntry(Coalitions.Players(s.Mask).Select(i => p.Players[i]).ToList(), s.Mask, s.Score, s.Utility, s.Note)).ToList();
        var report = new ContributionReport(r.RunId, r.Collaboration, r.Model, r.Version, r.Method, request.Values.Exact, r.Seed, r.Sampling,
            request.Values.Samples, request.Values.Converged, p.Plan.Metric, p.HigherIsBetter, p.EvaluationSetSha256,
            table.FirstOrDefault(e => e.Mask == 0)?.Utility, table.FirstOrDefault(e => e.Mask == grand)?.Utility, members,
            table.Count(e => e.Mask != 0), table, request.CreatedAt, r.Actor);
        byte[] content = JsonSerializer.SerializeToUtf8Bytes(report, LeptonJson.Options);
        try
        {
            await Blobs.GetBlobClient(ReportBlob(r.Collaboration, r.RunId)).UploadAsync(new BinaryData(content),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // A retried activity: the first stored report stands, and was audited then.
            return await GetAsync(r.Collaboration, r.RunId, ct);
        }

        cache.Remove((nameof(ContributionPlan), r.RunId));

        Collaboration c = await collaborations.FindAsync(r.Collaboration, ct) ?? throw LeptonException.NotFound("No such resource.");
        await collaborations.AuditMembersAsync(c, r.Actor, AuditActions.ContributionReported,
            $"sha256 {Convert.ToHexStringLower(SHA256.HashData(content))}; shares {string.Join(", ", members.Select(m => $"{m.Member} {m.Share:F2}%"))}",
            ct, resource: $"collaborations/{c.Id}/models/{r.Model}/v{r.Version}/contributions/{r.RunId}");
        return report;
    }

    public async Task<ContributionReport> GetAsync(string collaboration, string id, CancellationToken ct = default)
    {
        try
        {
            BinaryData content = (await Blobs.GetBlobClient(ReportBlob(collaboration, id)).DownloadContentAsync(ct)).Value.Content;
            return content.ToObjectFromJson<ContributionReport>(LeptonJson.Options)!;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw LeptonException.NotFound($"Contribution report '{id}' was not found (a run still in progress has none yet: see /api/runs/{id}).");
        }
    }

    public async Task<IReadOnlyList<ContributionSummary>> ListAsync(string collaboration, string? model, CancellationToken ct = default)
    {
        var reports = new List<ContributionSummary>();
        await foreach (BlobItem blob in Blobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{collaboration}/contributions/", ct))
        {
            ContributionReport r = await GetAsync(collaboration, Path.GetFileNameWithoutExtension(blob.Name), ct);
            if (model is null || r.Model == model)
            {
                reports.Add(new ContributionSummary(r.Id, r.Model, r.Version, r.Method, r.CreatedAt, r.Members));
            }
        }

        return reports.OrderByDescending(r => r.CreatedAt).ToList();
    }

    /// <summary>The latest report of the collaboration (for the ledger's allocation), if any.</summary>
    public async Task<ContributionReport?> LatestAsync(string collaboration, CancellationToken ct = default) =>
        (await ListAsync(collaboration, null, ct)).FirstOrDefault() is { } latest ? await GetAsync(collaboration, latest.Id, ct) : null;

    /// <summary>Recomputes values and shares from the stored coalition table with the stored method, seed and stopping rules.</summary>
    public async Task<ContributionVerification> VerifyAsync(string collaboration, string id, CancellationToken ct = default)
    {
        ContributionReport report = await GetAsync(collaboration, id, ct);
        var problems = new List<string>();
        var table = new Dictionary<ulong, double>();
        foreach (CoalitionEntry entry in report.Coalitions)
        {
            if (Math.Abs(entry.Utility - (report.HigherIsBetter ? entry.Score : -entry.Score)) > 1e-12)
            {
                problems.Add($"coalition {{{string.Join(", ", entry.Members)}}}: utility {entry.Utility} does not follow from its score {entry.Score}");
            }

            table[entry.Mask] = entry.Utility;
        }

        int n = report.Members.Count;
        EstimatedValues recomputed;
        try
        {
            recomputed = await ContributionEstimator.ComputeAsync(report.Method, n, report.Members.Select(m => m.Rows).ToList(), report.Seed, report.Sampling,
                masks => Task.FromResult<IReadOnlyDictionary<ulong, double>>(masks.Distinct().ToDictionary(m => m,
                    m => table.TryGetValue(m, out double u) ? u : throw new KeyNotFoundException($"coalition mask {m} is not in the table"))),
                report.Exact ? Coalitions.MaxPlayers : ContributionEstimator.ExactLimit);
        }
        catch (KeyNotFoundException e)
        {
            return new ContributionVerification(false, [.. problems, e.Message], []);
        }

        double[] shares = Shares.Normalize(recomputed.Values);
        var members = report.Members.Select((m, i) => m with { Value = recomputed.Values[i], Share = shares[i] }).ToList();
        for (int i = 0; i < n; i++)
        {
            if (Math.Abs(members[i].Value - report.Members[i].Value) > 1e-9 || Math.Abs(members[i].Share - report.Members[i].Share) > 1e-9)
            {
                problems.Add($"{members[i].Member}: stored value {report.Members[i].Value:G6} ({report.Members[i].Share:F4}%) but the table gives {members[i].Value:G6} ({members[i].Share:F4}%)");
            }
        }

        if (Math.Abs(report.Members.Sum(m => m.Share) - 100) > 1e-6)
        {
            problems.Add("the stored shares do not sum to 100%");
        }

        return new ContributionVerification(problems.Count == 0, problems, members);
    }

    /// <summary>The run's plan: from this worker's memory, or from storage when another worker planned it.</summary>
    private async Task<ContributionPlan> StoredPlanAsync(string collaboration, string runId, CancellationToken ct)
    {
        if (cache.TryGetValue((nameof(ContributionPlan), runId), out ContributionPlan? plan) && plan is not null)
        {
            return plan;
        }

        BinaryData stored = (await Blobs.GetBlobClient(PlanBlob(collaboration, runId)).DownloadContentAsync(ct)).Value.Content;
        return cache.Put((nameof(ContributionPlan), runId), stored.ToObjectFromJson<ContributionPlan>(LeptonJson.Options)!, PlanLifetime);
    }

    private static string PlanBlob(string collaboration, string runId) => $"{collaboration}/runs/{runId}/plan.json";

    private static CoalitionScore Score(ContributionPlan p, ulong mask, double score, bool cached, string? note) =>
        new(mask, score, p.HigherIsBetter ? score : -score, cached, note);

    private async Task<ModelVersion> ResolveVersionAsync(Collaboration c, string model, int? version, CancellationToken ct)
    {
        if (version is { } v)
        {
            return await registry.GetVersionAsync(c.ModelOwner, model, v, ct);
        }

        ModelSummary summary = await registry.GetAsync(c.ModelOwner, model, ct);
        return summary.Versions.FirstOrDefault(x => x.Version == summary.ProductionVersion) ?? summary.Versions[^1];
    }

    private static void RequireActive(Collaboration c)
    {
        if (c.State != CollaborationStates.Active)
        {
            throw LeptonException.Conflict($"Collaboration '{c.Id}' is {c.State}"
                + (c.AwaitingAcceptance.Count > 0 ? $": waiting for {string.Join(", ", c.AwaitingAcceptance)} to accept the current terms." : "."));
        }
    }

    /// <summary>A coalition's score depends only on its members' data versions, the configuration, the seed and the evaluation set.</summary>
    private static string CacheKey(ContributionPlan p, IEnumerable<string> members)
    {
        string data = string.Join(';', p.Plan.Collaboration!.Members.Where(m => members.Contains(m.Member)).OrderBy(m => m.Member, StringComparer.Ordinal)
            .Select(m => m.Member + ":" + string.Join(',', m.Datasets.Select(d => $"{d.Dataset}@{d.Version}"))));
        string configuration = p.Configuration.Trainer + ":" + string.Join(',', p.Configuration.HyperParameters.OrderBy(h => h.Key).Select(h => $"{h.Key}={h.Value:R}"));
        string text = $"{data}|{configuration}|{p.Plan.Metric}|{p.Plan.Seed}|{p.EvaluationSetSha256}|{string.Join(',', p.Plan.Collaboration.Features)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string ReportBlob(string collaboration, string id) => $"{collaboration}/contributions/{id}.json";
}
