using Lepton.Api;
using Microsoft.Extensions.Caching.Memory;
using Lepton.Audit;
using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Blobs;
using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Learning;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Training;

namespace Lepton.Federated;

/// <summary>
/// The activities of federated training. A member's activity touches only that member's storage (through its grant,
/// audited in its chain) and returns aggregates: statistics, validation counts, a (masked) parameter update stored as a
/// blob. The platform keeps the plan, the global parameters per round and the updates; rows never leave the member.
/// </summary>
public sealed class FederatedService(
    CollaborationStore collaborations, CollaborationData data, CollaborationRows rows, TenantStorageFactory tenants, StorageClients storage,
    ModelRegistry registry, IMemoryCache cache)
{
    public const int MaxRounds = 200;
    private static readonly TimeSpan PlanLifetime = TimeSpan.FromHours(1);

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(ContributionService.Container);

    /// <summary>Resolves and checks a request before it is accepted (so an impossible run is a 4xx, not a failed run).</summary>
    public async Task<FederatedSettings> ValidateAsync(Collaboration c, FederatedBody body, CancellationToken ct = default)
    {
        if (c.Mode != CollaborationModes.Federated)
        {
            throw LeptonException.BadRequest($"Collaboration '{c.Id}' trains {c.Mode}.");
        }

        await data.RequireReadyAsync(c, ct);
        string strategy = body.Strategy ?? Strategies.FedAvg;
        var settings = new FederatedSettings(body.Rounds ?? 20, body.LocalEpochs ?? 5, strategy, body.Mu ?? (strategy == Strategies.FedProx ? 0.01 : 0),
            body.TrimFraction ?? 0.2, body.Hidden ?? [32], body.MinMembersPerRound ?? 2, body.RoundTimeoutSeconds ?? 600, body.Patience ?? 5,
            body.SecureAggregation ?? false, body.ClipNorm ?? (c.Terms.PrivacyEpsilon is null ? null : 1.0),
            body.NoiseMultiplier ?? (c.Terms.PrivacyEpsilon is null ? null : 1.0), c.Terms.PrivacyDelta ?? (c.Terms.PrivacyEpsilon is null ? null : 1e-5),
            body.LearningRate ?? 0.003, 64, PooledTraining.Seed);
        string? problem = settings switch
        {
            // The orchestrator carries each round's summary from execution to execution: 200 keep it well inside one durable message.
            { Rounds: < 1 or > MaxRounds } => $"'rounds' must be between 1 and {MaxRounds}",
            { LocalEpochs: < 1 or > 100 } => "'localEpochs' must be between 1 and 100",
            _ when !Strategies.All.Contains(strategy) => $"'strategy' must be one of {string.Join(", ", Strategies.All)}",
            { Mu: < 0 } => "'mu' must be zero or more",
            { TrimFraction: < 0 or >= 0.5 } => "'trimFraction' must be at least 0 and below 0.5",
            _ when settings.Hidden.Count > 4 || settings.Hidden.Any(h => h is < 1 or > 1024) => "'hidden' must list at most 4 layer widths of 1 to 1,024",
            { MinMembersPerRound: < 1 } => "'minMembersPerRound' must be at least 1",
            { RoundTimeoutSeconds: < 5 or > 86_400 } => "'roundTimeoutSeconds' must be between 5 and 86,400",
            { SecureAggregation: true } when Strategies.IsRobust(strategy) => $"'{strategy}' needs every member's update and cannot run on masked updates; use fedavg or fedprox with secureAggregation",
            { ClipNorm: <= 0 } or { NoiseMultiplier: <= 0 } => "'clipNorm' and 'noiseMultiplier' must be positive",
            _ when (settings.ClipNorm is null) != (settings.NoiseMultiplier is null) => "differential privacy needs both 'clipNorm' and 'noiseMultiplier'",
            _ when settings.Private && Strategies.IsRobust(strategy) => "differential privacy noises the mean of clipped updates; use fedavg or fedprox",
            _ => null,
        };
        if (problem is not null)
        {
            throw LeptonException.BadRequest(problem + ".");
        }

        if (c.Terms.PrivacyEpsilon is { } budget)
        {
            if (!settings.Private)
            {
                throw LeptonException.BadRequest($"The terms set a privacy budget (ε = {budget}); a run must use differential privacy ('clipNorm', 'noiseMultiplier').");
            }

            double planned = PrivacyAccountant.Epsilon(settings.NoiseMultiplier!.Value, settings.Rounds, settings.Delta!.Value);
            if (planned > budget)
            {
                throw LeptonException.Conflict(
                    $"{settings.Rounds} rounds at noise multiplier {settings.NoiseMultiplier} would spend ε = {planned:F2} (δ = {settings.Delta}), over the agreed budget ε = {budget}. "
                    + "Plan fewer rounds or more noise.");
            }
        }

        return settings;
    }

    public async Task<FederatedDraft> PrepareAsync(FederatedRequest request, CancellationToken ct = default)
    {
        Collaboration c = await collaborations.FindAsync(request.Collaboration, ct) ?? throw LeptonException.NotFound("No such resource.");
        DataReport report = await data.RequireReadyAsync(c, ct);
        MemberDataReport first = report.Members.First(m => m.Datasets.Count > 0 && m.Compatible);
        var features = report.SharedFeatures.Select(f => first.Schema!.First(col => col.Name == f) with { IsLabel = false }).ToList();
        var members = report.Members.Where(m => m.Datasets.Count > 0).Select(m => new MemberPlan(m.Member, m.Datasets, 0, 0)).ToList();
        await collaborations.AuditMembersAsync(c, request.Actor, AuditActions.TrainingStarted,
            $"federated {request.Settings.Strategy}: {request.Settings.Rounds} rounds x {request.Settings.LocalEpochs} local epochs over {members.Count} members"
            + (request.Settings.SecureAggregation ? ", secure aggregation" : "") + (request.Settings.Private ? $", differential privacy (noise {request.Settings.NoiseMultiplier})" : ""),
            ct, resource: $"collaborations/{c.Id}/models/{request.Model}");
        return new FederatedDraft(request, members, features, report.Label, report.Task!, report.Metric!, c.Terms.EvaluationFraction, c.Terms.MinRowsPerMember);
    }

    /// <summary>One member's aggregates over its training rows, computed where its rows are.</summary>
    public async Task<MemberStatistics> ComputeStatisticsAsync(StatisticsRequest request, CancellationToken ct = default)
    {
        using IDisposable scope = StorageAccess.ActingFor(nameof(ComputeStatisticsAsync), request.Member);
        FederatedDraft d = request.Draft;
        MemberPlan member = d.Members.Single(m => m.Member == request.Member);
        MemberFiles files = await rows.MemberFilesAsync(d.Request.Collaboration, d.Request.RunId, member.Member, member.Datasets, d.Features.Select(f => f.Name).ToList(),
            d.Label, d.Task != MlTasks.Regression, d.EvaluationFraction, d.Request.Settings.Seed, train: true, evaluate: false, ct);
        return FederatedStatistics.Compute(member.Member, files.TrainFile, d.Features, d.Label, d.Task);
    }

    /// <summary>A fresh key pair for the member: the private key goes to the member's own storage, the public key back.</summary>
    public async Task<MemberKey> PublishKeyAsync(KeyRequest request, CancellationToken ct = default)
    {
        using IDisposable scope = StorageAccess.ActingFor(nameof(PublishKeyAsync), request.Member);
        (byte[] privateKey, string publicKey) = SecureAggregation.CreateKeyPair();
        TenantStorage member = await tenants.ForTenantAsync(request.Member, ct);
        await member.Curated.GetBlobClient(BlobLayout.FederationKey(request.Collaboration, request.RunId)).UploadAsync(BinaryData.FromBytes(privateKey), overwrite: true, ct);
        return new MemberKey(request.Member, publicKey);
    }

    /// <summary>Combines the statistics into the plan (featurization, classes, target scale), stores it and the initial parameters.</summary>
    public async Task<FederatedStart> InitializeAsync(InitializeRequest request, CancellationToken ct = default)
    {
        FederatedDraft d = request.Draft;
        var kept = request.Statistics.Where(s => s.Rows >= Math.Max(1, d.MinRowsPerMember)).ToList();
        var excluded = request.Statistics.Except(kept).Select(s => s.Member).ToList();
        if (kept.Count < Math.Max(2, d.Request.Settings.MinMembersPerRound))
        {
            throw LeptonException.Conflict($"Only {kept.Count} members have at least {d.MinRowsPerMember} training rows; the run needs {Math.Max(2, d.Request.Settings.MinMembersPerRound)}."
                + (excluded.Count > 0 ? $" Too few rows: {string.Join(", ", excluded)}." : ""));
        }

        MemberStatistics all = FederatedStatistics.Combine(kept);
        Featurization featurization = FederatedStatistics.Featurize(all, d.Features);
        IReadOnlyList<string> classes = d.Task == MlTasks.Regression ? [] : all.LabelCounts.Keys.Order(StringComparer.Ordinal).ToList();
        double center = 0, scale = 1;
        if (d.Task == MlTasks.Regression && all.LabelValues.Count > 0)
        {
            center = all.LabelValues.Sum / all.LabelValues.Count;
            double variance = all.LabelValues.SumOfSquares / all.LabelValues.Count - center * center;
            scale = variance > 1e-24 ? Math.Sqrt(variance) : 1;
        }

        var shape = new NetworkShape(featurization.Width, d.Request.Settings.Hidden, d.Task == MlTasks.Multiclass ? classes.Count : 1,
            d.Task switch { MlTasks.Binary => NetworkHead.Binary, MlTasks.Multiclass => NetworkHead.Multiclass, _ => NetworkHead.Regression });
        var plan = new FederatedPlan(d, featurization, shape, classes, center, scale, kept.ToDictionary(s => s.Member, s => s.Rows),
            request.Keys.ToDictionary(k => k.Member, k => k.PublicKey), excluded);
        string planBlob = RunBlob(d.Request, "plan.json");
        await Blobs.GetBlobClient(planBlob).UploadAsync(BinaryData.FromObjectAsJson(plan, LeptonJson.Options), overwrite: true, ct);
        cache.Put((nameof(FederatedPlan), planBlob), plan, PlanLifetime);
        using var backend = new CpuBackend(1);
        var network = new Network(shape, backend, 1);
        network.Initialize(d.Request.Settings.Seed);
        string global = await WriteParametersAsync(RunBlob(d.Request, "global-0.json"), network.Parameters, ct);
        return new FederatedStart(planBlob, global, kept.Select(s => s.Member).ToList(), excluded);
    }

    /// <summary>
    /// Evaluates the global model on the member's held-out rows (validation statistics), then trains it locally
    /// (FedProx's proximal term when μ &gt; 0), clips the update for privacy, masks it for secure aggregation, and stores it.
    /// </summary>
    public async Task<MemberRoundResult> TrainMemberAsync(MemberRoundRequest request, CancellationToken ct = default)
    {
        using IDisposable scope = StorageAccess.ActingFor(nameof(TrainMemberAsync), request.Member);
        FederatedPlan plan = await PlanAsync(request.PlanBlob, ct);
        FederatedDraft d = plan.Draft;
        FederatedSettings s = d.Request.Settings;
        MemberPlan member = d.Members.Single(m => m.Member == request.Member);
        MemberFiles files = await rows.MemberFilesAsync(d.Request.Collaboration, d.Request.RunId, member.Member, member.Datasets, d.Features.Select(f => f.Name).ToList(),
            d.Label, d.Task != MlTasks.Regression, d.EvaluationFraction, s.Seed, train: !request.EvaluateOnly, evaluate: true, ct);
        float[] global = await ReadParametersAsync(request.GlobalBlob, ct);
        ParametricModel model = Model(plan, global);
        ValidationStatistics validation = files.EvaluationRows > 0
            ? FederatedStatistics.Validate(model, d.Task, d.Label, files.EvaluationFile)
            : FederatedStatistics.Sum([]) with { Confusion = [], PositiveHistogram = [], NegativeHistogram = [] };
        if (request.EvaluateOnly)
        {
            return new MemberRoundResult(member.Member, null, 0, validation, 0);
        }

        Dictionary<string, string[]> columns = ParametricEngine.ReadColumns(files.TrainFile, plan.Featurization.Numeric.Select(n => n.Name)
            .Concat(plan.Featurization.Categorical.Select(c => c.Name)).Append(d.Label));
        int count = columns[d.Label].Length;
        (float[] targets, _, _) = ParametricEngine.Targets(d.Task, columns[d.Label], plan.Classes, model);
        var options = new NetworkOptions(s.Hidden, LearningRate: (float)s.LearningRate, BatchSize: s.BatchSize, Seed: s.Seed + request.Round);
        using var backend = new CpuBackend(1);
        (float[] local, _, _) = NetworkTrainer.Train(new TrainingSet(ParametricEngine.Matrix(plan.Featurization, columns, count), targets, count, plan.Featurization.Width),
            plan.Shape, options, backend, global, s.LocalEpochs, (float)s.Mu);
        float[] update = local.Zip(global, (a, b) => a - b).ToArray();
        double norm = s.ClipNorm is { } clip ? Aggregation.Clip(update, clip) : Math.Sqrt(update.Sum(v => (double)v * v));
        string blob = RunBlob(d.Request, $"updates/{request.Round}-{request.Attempt}/{member.Member}.json");
        if (s.SecureAggregation)
        {
            // Each member scales its own update by its public weight, so the masked sum is already the weighted mean.
            double weight = s.Private ? 1.0 / request.Participants.Count : (double)count / request.Participants.Sum(p => plan.Rows[p]);
            float[] weighted = update.Select(v => (float)(v * weight)).ToArray();
            byte[] privateKey = (await (await tenants.ForTenantAsync(member.Member, ct)).Curated
                .GetBlobClient(BlobLayout.FederationKey(d.Request.Collaboration, d.Request.RunId)).DownloadContentAsync(ct)).Value.Content.ToArray();
            var seeds = request.Participants.Where(p => p != member.Member).ToDictionary(p => p,
                p => SecureAggregation.PairSeed(privateKey, plan.PublicKeys[p], $"{d.Request.RunId}|{request.Round}|{request.Attempt}|{Pair(member.Member, p)}"));
            await Blobs.GetBlobClient(blob).UploadAsync(BinaryData.FromObjectAsJson(SecureAggregation.Mask(SecureAggregation.Quantize(weighted), member.Member, seeds), LeptonJson.Options),
                overwrite: true, ct);
        }
        else
        {
            await WriteParametersAsync(blob, update, ct);
        }

        return new MemberRoundResult(member.Member, blob, count, validation, norm);
    }

    /// <summary>Aggregates the round's updates into the next global parameters; returns the round's summary.</summary>
    public async Task<RoundSummary> AggregateAsync(AggregateRequest request, CancellationToken ct = default)
    {
        Telemetry.LeptonTelemetry.RoundsAggregated.Add(1);
        FederatedPlan plan = await PlanAsync(request.PlanBlob, ct);
        FederatedSettings s = plan.Draft.Request.Settings;
        float[] global = await ReadParametersAsync(request.GlobalBlob, ct);
        var results = request.Results.OrderBy(r => r.Member, StringComparer.Ordinal).ToList();
        float[] aggregate;
        if (s.SecureAggregation)
        {
            var masked = new List<uint[]>();
            foreach (MemberRoundResult r in results)
            {
                masked.Add((await Blobs.GetBlobClient(r.UpdateBlob!).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<uint[]>(LeptonJson.Options)!);
            }

            aggregate = SecureAggregation.Dequantize(SecureAggregation.Sum(masked));
        }
        else
        {
            var updates = new List<float[]>();
            foreach (MemberRoundResult r in results)
            {
                updates.Add(await ReadParametersAsync(r.UpdateBlob!, ct));
            }

            aggregate = s.Strategy switch
            {
                Strategies.Median => Aggregation.Median(updates),
                Strategies.TrimmedMean => Aggregation.TrimmedMean(updates, s.TrimFraction),
                _ when s.Private => Aggregation.WeightedMean(updates, updates.Select(_ => 1.0).ToList()),
                _ => Aggregation.WeightedMean(updates, results.Select(r => (double)r.Samples).ToList()),
            };
        }

        if (s.Private)
        {
            // Gaussian noise on the mean of clipped updates: σ·C on the sum, σ·C/m on the mean.
            Aggregation.AddGaussianNoise(aggregate, s.NoiseMultiplier!.Value * s.ClipNorm!.Value / results.Count, s.Seed * 7919 + request.Round);
        }

        float[] next = global.Zip(aggregate, (g, a) => g + a).ToArray();
        string blob = await WriteParametersAsync(RunBlob(plan.Draft.Request, $"global-{request.Round}.json"), next, ct);
        Dictionary<string, double> metrics = FederatedStatistics.Metrics(plan.Draft.Task, FederatedStatistics.Sum(results.Select(r => r.Validation).ToList()), plan.Classes.Count);
        return new RoundSummary(request.Round, results.Select(r => r.Member).ToList(), [], metrics, blob, request.Attempt);
    }

    /// <summary>The metrics of the current global model from the members' validation statistics (no update is aggregated).</summary>
    public async Task<RoundSummary> SummarizeAsync(AggregateRequest request, CancellationToken ct = default)
    {
        FederatedPlan plan = await PlanAsync(request.PlanBlob, ct);
        Dictionary<string, double> metrics = FederatedStatistics.Metrics(plan.Draft.Task, FederatedStatistics.Sum(request.Results.Select(r => r.Validation).ToList()), plan.Classes.Count);
        return new RoundSummary(request.Round, request.Results.Select(r => r.Member).ToList(), [], metrics, request.GlobalBlob, 0);
    }

    /// <summary>Exports the final global model to ONNX (checked on synthetic rows) and registers it in the collaboration's registry.</summary>
    public async Task<ModelVersion> RegisterAsync(RegisterFederatedRequest request, CancellationToken ct = default)
    {
        FederatedState state = request.State;
        FederatedPlan plan = await PlanAsync(state.PlanBlob!, ct);
        FederatedDraft d = plan.Draft;
        FederatedSettings s = d.Request.Settings;
        ParametricModel model = Model(plan, await ReadParametersAsync(request.FinalBlob, ct));
        byte[] onnx = NetworkOnnx.Export(model);
        double parity = Parity(model, onnx);
        if (parity > ParametricEngine.ParityToleranceFor(model))
        {
            throw new InvalidOperationException(
                $"ONNX parity check failed: ONNX Runtime and the trainer differ by up to {parity:G3} (tolerance {ParametricEngine.ParityToleranceFor(model):G3}).");
        }

        // The round history (who reported, with which attempt's updates) lets a contribution run rebuild every coalition's model.
        await Blobs.GetBlobClient(RunBlob(d.Request, HistoryFile)).UploadAsync(BinaryData.FromObjectAsJson(state.History, LeptonJson.Options), overwrite: true, ct);
        string owner = ModelOwners.ForCollaboration(d.Request.Collaboration);
        string prefix = ModelRegistry.ArtifactPrefix(owner, d.Request.Model, d.Request.RunId);
        await registry.Artifact(prefix + "model.onnx").UploadAsync(BinaryData.FromBytes(onnx), overwrite: true, ct);
        await registry.Artifact(prefix + TrainingService.ParametricModelFileName).UploadAsync(BinaryData.FromObjectAsJson(model, LeptonJson.Options), overwrite: true, ct);
        using var scorer = new OnnxScorer(onnx);
        var participated = d.Members.ToDictionary(m => m.Member, m => state.History.Count(h => h.Reporting.Contains(m.Member)));
        var history = state.History.Select(h => new RoundMetric(h.Round, h.Metrics.TryGetValue(d.Metric, out double v) ? v : null, h.Reporting.Count, h.Skipped)).ToList();
        int roundsRun = state.History.Count;
        var summary = new FederatedSummary(s.Strategy, roundsRun, s.SecureAggregation, history, participated,
            s.Private ? PrivacyAccountant.Epsilon(s.NoiseMultiplier!.Value, roundsRun, s.Delta!.Value) : null, s.Delta, s.NoiseMultiplier, s.ClipNorm, state.Excluded);
        var configuration = new CandidateSpec($"federated-mlp-{string.Join('x', s.Hidden)}", ParametricEngine.Mlp,
            s.Hidden.Select((h, i) => ($"hidden{i + 1}", (double)h)).Concat([("rounds", s.Rounds), ("localEpochs", s.LocalEpochs), ("mu", s.Mu), ("learningRate", s.LearningRate)])
                .ToDictionary(x => x.Item1, x => x.Item2));
        // Lineage (and so the grants the version depends on) names the members whose updates made it.
        IReadOnlyList<MemberLineage> lineage = d.Members.Where(m => participated[m.Member] > 0).SelectMany(m => m.Datasets.Select(ds =>
            new MemberLineage(m.Member, ds.Dataset, ds.Version, ds.SourceSha256, ds.GrantId, plan.Rows.GetValueOrDefault(m.Member), 0))).ToList();
        string meaning = d.Task switch
        {
            MlTasks.Binary => $"PredictedLabel: true when '{d.Label}' is predicted positive ({string.Join(" < ", plan.Classes)}); Probability: P(positive); Score: raw margin",
            MlTasks.Multiclass => "Score: one probability per class, in classLabels order",
            _ => $"Score: the predicted '{d.Label}'",
        };
        var proposed = new ModelVersion(d.Request.Model, 0, "", d.Task, d.Metric, request.FinalMetrics.GetValueOrDefault(d.Metric, double.NaN) is var m && double.IsFinite(m) ? m : 0,
            d.Label, configuration, [], [], prefix + "model.onnx", TrainingEngine.Sha256(onnx), scorer.Inputs, meaning, plan.Classes, default, d.Request.RunId, "",
            lineage, new Dictionary<string, IReadOnlyDictionary<string, double>> { [TrainingService.AllMembers] = request.FinalMetrics }, null, null, null, summary);
        Collaboration? c = await collaborations.FindAsync(d.Request.Collaboration, ct);
        return await registry.RegisterAsync(owner, proposed, ct, auditTenants: c?.Members.Select(x => x.Tenant).ToList() ?? d.Members.Select(x => x.Member).ToList());
    }

    public const string HistoryFile = "history.json";

    /// <summary>A finished federated run's plan and round history, for a contribution run over it.</summary>
    public async Task<(FederatedPlan Plan, IReadOnlyList<RoundSummary> History)> ReadRunAsync(string collaboration, string trainingRunId, CancellationToken ct = default)
    {
        FederatedPlan plan = await PlanAsync($"{collaboration}/runs/{trainingRunId}/plan.json", ct);
        IReadOnlyList<RoundSummary> history = (await Blobs.GetBlobClient($"{collaboration}/runs/{trainingRunId}/{HistoryFile}").DownloadContentAsync(ct))
            .Value.Content.ToObjectFromJson<List<RoundSummary>>(LeptonJson.Options)!;
        return (plan, history);
    }

    /// <summary>
    /// One member's validation statistics for every asked coalition's model of one round: the global parameters the round
    /// started from plus the aggregate (by the run's strategy) of the coalition's members' stored updates of that round.
    /// </summary>
    public async Task<IReadOnlyList<ValidationStatistics>> EvaluateCoalitionsAsync(FederatedCoalitionRequest request, CancellationToken ct = default)
    {
        using IDisposable scope = StorageAccess.ActingFor(nameof(EvaluateCoalitionsAsync), request.Member);
        (FederatedPlan plan, IReadOnlyList<RoundSummary> history) = await ReadRunAsync(request.Collaboration, request.TrainingRunId, ct);
        FederatedDraft d = plan.Draft;
        FederatedSettings s = d.Request.Settings;
        RoundSummary round = history.Single(h => h.Round == request.Round);
        MemberPlan member = d.Members.Single(m => m.Member == request.Member);
        MemberFiles files = await rows.MemberFilesAsync(d.Request.Collaboration, request.ContributionRunId, member.Member, member.Datasets, d.Features.Select(f => f.Name).ToList(),
            d.Label, d.Task != MlTasks.Regression, d.EvaluationFraction, s.Seed, train: false, evaluate: true, ct);
        float[] start = await ReadParametersAsync(request.Round == 1 ? RunBlob(d.Request, "global-0.json") : history.Single(h => h.Round == request.Round - 1).GlobalBlob, ct);
        var updates = new Dictionary<string, float[]>();
        foreach (string reporter in round.Reporting.Where(request.Players.Contains))
        {
            updates[reporter] = await ReadParametersAsync(RunBlob(d.Request, $"updates/{round.Round}-{round.Attempts}/{reporter}.json"), ct);
        }

        var results = new List<ValidationStatistics>();
        foreach (ulong mask in request.Masks)
        {
            string[] coalition = Coalitions.Players(mask).Select(i => request.Players[i]).Where(updates.ContainsKey).ToArray();
            float[] parameters = start;
            if (coalition.Length > 0)
            {
                List<float[]> chosen = coalition.Select(m => updates[m]).ToList();
                float[] aggregate = s.Strategy switch
                {
                    Strategies.Median => Aggregation.Median(chosen),
                    Strategies.TrimmedMean => Aggregation.TrimmedMean(chosen, s.TrimFraction),
                    _ when s.Private => Aggregation.WeightedMean(chosen, chosen.Select(_ => 1.0).ToList()),
                    _ => Aggregation.WeightedMean(chosen, coalition.Select(m => (double)plan.Rows[m]).ToList()),
                };
                parameters = start.Zip(aggregate, (g, a) => g + a).ToArray();
            }

            results.Add(files.EvaluationRows > 0
                ? FederatedStatistics.Validate(Model(plan, parameters), d.Task, d.Label, files.EvaluationFile)
                : FederatedStatistics.Sum([]));
        }

        return results;
    }

    private static ParametricModel Model(FederatedPlan plan, float[] parameters) =>
        new(plan.Shape, plan.Featurization, parameters, plan.Classes, plan.TargetCenter, plan.TargetScale, 0, null);

    /// <summary>ONNX against the trainer on rows drawn from the featurization's own statistics (the platform holds no member rows).</summary>
    private static double Parity(ParametricModel model, byte[] onnx)
    {
        var random = new Random(5);
        var sample = Enumerable.Range(0, 100).Select(i => (IReadOnlyDictionary<string, string?>)model.Featurization.Numeric
            .ToDictionary(n => n.Name, n => (string?)(n.IsBoolean ? (random.Next(2) == 1 ? "true" : "false")
                : (n.Center + n.Scale * (random.NextDouble() * 4 - 2)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))
            .Concat(model.Featurization.Categorical.Select(c => new KeyValuePair<string, string?>(c.Name, c.Categories.Count == 0 ? "" : c.Categories[random.Next(c.Categories.Count)])))
            .ToDictionary()).ToList();
        var columns = sample[0].Keys.ToDictionary(k => k, k => sample.Select(r => r[k] ?? "").ToArray());
        using var backend = new CpuBackend(1);
        float[][] expected = NetworkTrainer.Predict(model, ParametricEngine.Matrix(model.Featurization, columns, sample.Count), sample.Count, backend);
        using var scorer = new OnnxScorer(onnx);
        Dictionary<string, float[][]> outputs = scorer.Score(sample);
        return TrainingEngine.MaxRelativeDifference(expected, model.Shape.Head == NetworkHead.Binary ? outputs[Prediction.OnnxOutputs.Probability] : outputs[Prediction.OnnxOutputs.Score]);
    }

    private async Task<FederatedPlan> PlanAsync(string blob, CancellationToken ct)
    {
        if (cache.TryGetValue((nameof(FederatedPlan), blob), out FederatedPlan? plan) && plan is not null)
        {
            return plan;
        }

        return cache.Put((nameof(FederatedPlan), blob), (await Blobs.GetBlobClient(blob).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<FederatedPlan>(LeptonJson.Options)!, PlanLifetime);
    }

    private async Task<string> WriteParametersAsync(string blob, float[] parameters, CancellationToken ct)
    {
        await Blobs.GetBlobClient(blob).UploadAsync(BinaryData.FromObjectAsJson(parameters, LeptonJson.Options), overwrite: true, ct);
        return blob;
    }

    private async Task<float[]> ReadParametersAsync(string blob, CancellationToken ct) =>
        (await Blobs.GetBlobClient(blob).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<float[]>(LeptonJson.Options)!;

    private static string RunBlob(FederatedRequest request, string name) => $"{request.Collaboration}/runs/{request.RunId}/{name}";

    private static string Pair(string a, string b) => string.CompareOrdinal(a, b) < 0 ? $"{a}|{b}" : $"{b}|{a}";
}
