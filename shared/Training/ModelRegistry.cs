using Microsoft.Extensions.Caching.Memory;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Training;

public static class ModelStages
{
    public const string Production = "production";
    public const string Candidate = "candidate";
    public const string Archived = "archived";
}

public sealed record ModelSummary(string Model, int LatestVersion, int? ProductionVersion, IReadOnlyList<ModelVersion> Versions);

/// <summary>
/// Immutable model versions per tenant: the version card (leaderboard, configuration, lineage, artifact hash) in the
/// platform account's models container, the index and the production pointer in a table. Promotion is decided against
/// the current production version under the head row's ETag, so two runs cannot both become production.
/// </summary>
public sealed class ModelRegistry(StorageClients storage, AuditLog audit, TimeProvider time, IMemoryCache cache) : Prediction.IModelArtifacts
{
    internal const string TableName = "models";
    public const string Container = "models";

    /// <summary>How long a model's production pointer is reused for serving: a promotion is served within this time.</summary>
    public static readonly TimeSpan HeadCacheLifetime = TimeSpan.FromSeconds(1);

    // Version cards are immutable: once read, kept while the cache has room. Heads (production) and revocations serve for
    // at most HeadCacheLifetime after they were read, re-read in the background before then while in use.
    private const string Cards = "model-card";
    private readonly RefreshingReads<string, (int Production, bool Exists)> _heads = new(cache, time, () => HeadCacheLifetime);
    private readonly RefreshingReads<string, ModelRevocation?> _revocations = new(cache, time, () => HeadCacheLifetime);

    private TableClient Table => storage.PlatformTable(TableName);

    /// <summary>Which model versions were trained under which grant: partition = grant id.</summary>
    private TableClient Dependencies => storage.PlatformTable(DependenciesTable);

    internal const string DependenciesTable = "modeldependencies";

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(Container);

    public async Task EnsureCreatedAsync(CancellationToken ct = default)
    {
        await Table.CreateIfNotExistsAsync(ct);
        await Dependencies.CreateIfNotExistsAsync(ct);
        await Blobs.CreateIfNotExistsAsync(cancellationToken: ct);
    }

    /// <summary>
    /// Marks every version trained under the grant as grantRevoked; with <paramref name="stopPredictions"/> they stop serving
    /// (a mark that stops is never relaxed by a later one that does not). Returns the versions marked.
    /// </summary>
    public async Task<IReadOnlyList<(string Owner, string Model, int Version)>> MarkGrantRevokedAsync(
        string grantId, string reason, bool stopPredictions, Func<string, IReadOnlyList<string>> auditTenants, string actor, CancellationToken ct = default)
    {
        var marked = new List<(string Owner, string Model, int Version)>();
        await foreach (TableEntity row in Dependencies.QueryAsync<TableEntity>(e => e.PartitionKey == grantId, cancellationToken: ct))
        {
            string owner = row.GetString("Owner")!, model = row.GetString("Model")!;
            int version = row.GetInt32("Version") ?? 0;
            NullableResponse<TableEntity> existing = await Table.GetEntityIfExistsAsync<TableEntity>(owner, RevocationKey(model, version), cancellationToken: ct);
            bool stops = stopPredictions || (existing.HasValue && existing.Value!.GetBoolean("Stops") == true);
            await Table.UpsertEntityAsync(new TableEntity(owner, RevocationKey(model, version))
            {
                ["Reason"] = existing.HasValue ? existing.Value!.GetString("Reason") + "; " + reason : reason,
                ["Stops"] = stops,
                ["At"] = time.GetUtcNow(),
            }, TableUpdateMode.Replace, ct);
            _revocations.Forget($"{owner}/{model}/{version}");
            marked.Add((owner, model, version));
            foreach (string chain in auditTenants(owner))
            {
                await audit.AppendAsync(chain, actor, AuditActions.ModelGrantRevoked, $"{owner}/models/{model}/v{version}",
                    (stops ? "predictions stopped: " : "marked: ") + reason, ct: ct);
            }
        }

        return marked;
    }

    /// <summary>The version's revocation, if its data grant was revoked (re-read within <see cref="HeadCacheLifetime"/>).</summary>
    public async Task<ModelRevocation?> RevocationOfAsync(string owner, string model, int version, CancellationToken ct = default) =>
        await _revocations.GetAsync($"{owner}/{model}/{version}", async () =>
        {
            NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(owner, RevocationKey(model, version), cancellationToken: CancellationToken.None);
            return row.HasValue
                ? new ModelRevocation(row.Value!.GetString("Reason") ?? "", row.Value.GetBoolean("Stops") ?? false, row.Value.GetDateTimeOffset("At") ?? time.GetUtcNow())
                : null;
        }, ct);

    public static string ArtifactPrefix(string tenant, string model, string runId) => $"{tenant}/{model}/runs/{runId}/";

    public BlobClient Artifact(string blobName) => Blobs.GetBlobClient(blobName);

    public async Task<byte[]> ReadOnnxAsync(ModelVersion version, CancellationToken ct) =>
        (await Artifact(version.OnnxBlob).DownloadContentAsync(ct)).Value.Content.ToArray();

    /// <summary>Registers the run's model as the next version; idempotent per run.</summary>
    /// <param name="auditTenants">The chains that record the registration (a collaboration's members); the owner's by default.</param>
    /// <param name="decision">A promotion decided by the caller (an online update compares both models on the same rows).</param>
    public async Task<ModelVersion> RegisterAsync(
        string tenant, ModelVersion proposed, CancellationToken ct = default, string? actor = null, bool mayPromote = true, IReadOnlyList<string>? auditTenants = null,
        (bool Promote, string Reason)? decision = null)
    {
        while (true)
        {
            if ((await ListVersionsAsync(tenant, proposed.Model, ct)).FirstOrDefault(v => v.RunId == proposed.RunId) is { } existing)
            {
                // A retry after the commit: make sure its entries exist (the first try may have stopped before writing them).
                await AuditRegisteredAsync(tenant, existing, actor, existing.PromotionReason, auditTenants, ct);
                return existing;
            }

            NullableResponse<TableEntity> headRow = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, HeadKey(proposed.Model), cancellationToken: ct);
            TableEntity? head = headRow.HasValue ? headRow.Value : null;
            int version = (head?.GetInt32("Latest") ?? 0) + 1;
            int? productionVersion = head?.GetInt32("Production") is > 0 and var p ? p : null;
            double? productionMetric = productionVersion is null ? null : head!.GetDouble("ProductionMetric");
            (bool promote, string reason) = decision ?? (mayPromote
                ? Leaderboard.ShouldPromote(proposed.Metric, proposed.MetricValue, productionMetric, productionVersion)
                : (false, "registered without promotion, as asked"));
            ModelVersion registered = proposed with
            {
                Version = version,
                Stage = promote ? ModelStages.Production : ModelStages.Candidate,
                CreatedAt = time.GetUtcNow(),
                PromotionReason = reason,
            };

            // The card lives under the run, not the version number: a run that loses the race for a number rewrites only its own card.
            await Blobs.GetBlobClient(CardBlob(tenant, proposed.Model, proposed.RunId)).UploadAsync(BinaryData.FromObjectAsJson(registered, LeptonJson.Options), overwrite: true, ct);
            var newHead = new TableEntity(tenant, HeadKey(proposed.Model))
            {
                ["Model"] = proposed.Model,
                ["Latest"] = version,
                ["Production"] = promote ? version : productionVersion ?? 0,
                ["ProductionMetric"] = promote ? proposed.MetricValue : productionMetric ?? 0,
            };
            var actions = new List<TableTransactionAction>
            {
                head is null
                    ? new TableTransactionAction(TableTransactionActionType.Add, newHead)
                    : new TableTransactionAction(TableTransactionActionType.UpdateReplace, newHead, head.ETag),
                new(TableTransactionActionType.Add, new TableEntity(tenant, VersionKey(proposed.Model, version))
                {
                    ["Model"] = proposed.Model,
                    ["Version"] = version,
                    ["RunId"] = proposed.RunId,
                }),
            };
            try
            {
                await Table.SubmitTransactionAsync(actions, ct);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another run registered meanwhile: take the next number and decide promotion again.
                continue;
            }

            foreach (string grantId in registered.GrantIds)
            {
                await Dependencies.UpsertEntityAsync(new TableEntity(grantId, $"{tenant}|{proposed.Model}|{version:D6}")
                {
                    ["Owner"] = tenant, ["Model"] = proposed.Model, ["Version"] = version,
                }, cancellationToken: ct);
            }

            await AuditRegisteredAsync(tenant, registered, actor, reason, auditTenants, ct);
            return registered;
        }
    }

    private async Task AuditRegisteredAsync(string tenant, ModelVersion registered, string? actor, string reason, IEnumerable<string>? auditTenants, CancellationToken ct)
    {
        foreach (string chain in auditTenants ?? [tenant])
        {
            await audit.AppendAsync(chain, actor ?? $"system:{registered.RunId}", AuditActions.ModelRegistered, $"{tenant}/models/{registered.Model}/v{registered.Version}",
                $"{registered.Stage}: {reason}", ct: ct, idempotencyKey: $"{registered.RunId}:{AuditActions.ModelRegistered}");
        }
    }

    public async Task<ModelSummary> GetAsync(string tenant, string model, CancellationToken ct = default)
    {
        NullableResponse<TableEntity> head = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, HeadKey(model), cancellationToken: ct);
        if (!head.HasValue)
        {
            throw LeptonException.NotFound($"Model '{model}' was not found.");
        }

        IReadOnlyList<ModelVersion> versions = await ListVersionsAsync(tenant, model, ct);
        int production = head.Value!.GetInt32("Production") ?? 0;
        // Stage is decided at registration; a version promoted over later is archived.
        var staged = new List<ModelVersion>();
        foreach (ModelVersion v in versions)
        {
            staged.Add((v.Stage == ModelStages.Production && v.Version != production ? v with { Stage = ModelStages.Archived } : v)
                with { Revocation = await RevocationOfAsync(tenant, model, v.Version, ct) });
        }

        return new ModelSummary(model, head.Value.GetInt32("Latest") ?? 0, production > 0 ? production : null, staged);
    }

    /// <summary>The owner's models: name, latest and production version.</summary>
    public async Task<IReadOnlyList<(string Model, int Latest, int? Production)>> ListModelsAsync(string owner, CancellationToken ct = default)
    {
        var models = new List<(string, int, int?)>();
        await foreach (TableEntity row in Table.QueryAsync<TableEntity>(
            e => e.PartitionKey == owner && e.RowKey.CompareTo("h|") >= 0 && e.RowKey.CompareTo("h|~") < 0, cancellationToken: ct))
        {
            models.Add((row.GetString("Model") ?? "", row.GetInt32("Latest") ?? 0, row.GetInt32("Production") is > 0 and var p ? p : null));
        }

        return models;
    }

    /// <summary>One version's card, for serving: read once, then from memory (cards never change).</summary>
    public async Task<ModelVersion> GetVersionAsync(string tenant, string model, int version, CancellationToken ct = default)
    {
        string key = $"{tenant}/{model}/{version}";
        if (cache.TryGetValue((Cards, key), out ModelVersion? cached) && cached is not null)
        {
            return cached;
        }

        NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, VersionKey(model, version), cancellationToken: ct);
        return row.HasValue
            ? await ReadCardAsync(tenant, model, version, row.Value!.GetString("RunId") ?? "", ct)
            : throw LeptonException.NotFound($"Model '{model}' has no version {version}.");
    }

    /// <summary>A committed version's card, from memory after the first read.</summary>
    private async Task<ModelVersion> ReadCardAsync(string tenant, string model, int version, string runId, CancellationToken ct)
    {
        string key = $"{tenant}/{model}/{version}";
        if (cache.TryGetValue((Cards, key), out ModelVersion? cached) && cached is not null)
        {
            return cached;
        }

        BinaryData card = (await Blobs.GetBlobClient(CardBlob(tenant, model, runId)).DownloadContentAsync(ct)).Value.Content;
        return cache.Put((Cards, key), card.ToObjectFromJson<ModelVersion>(LeptonJson.Options)!);
    }

    /// <summary>The production version for serving (the pointer is cached for <see cref="HeadCacheLifetime"/>).</summary>
    public async Task<ModelVersion> GetProductionAsync(string tenant, string model, CancellationToken ct = default)
    {
        (int Production, bool Exists) head = await _heads.GetAsync($"{tenant}/{model}", async () =>
        {
            NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(tenant, HeadKey(model), cancellationToken: CancellationToken.None);
            return (row.HasValue ? row.Value!.GetInt32("Production") ?? 0 : 0, row.HasValue);
        }, ct);

        if (!head.Exists)
        {
            throw LeptonException.NotFound($"Model '{model}' was not found.");
        }

        return head.Production > 0
            ? await GetVersionAsync(tenant, model, head.Production, ct)
            : throw LeptonException.Conflict($"Model '{model}' has no production version yet; name a version (…/versions/{{v}}/predict) or train a better one.");
    }

    private async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string tenant, string model, CancellationToken ct)
    {
        var versions = new List<ModelVersion>();
        string prefix = $"v|{model}|";
        await foreach (TableEntity row in Table.QueryAsync<TableEntity>(
            e => e.PartitionKey == tenant && e.RowKey.CompareTo(prefix) >= 0 && e.RowKey.CompareTo(prefix + "~") < 0, cancellationToken: ct))
        {
            versions.Add(await ReadCardAsync(tenant, model, row.GetInt32("Version") ?? 0, row.GetString("RunId") ?? "", ct));
        }

        return versions.OrderBy(v => v.Version).ToList();
    }

    private static string CardBlob(string tenant, string model, string runId) => ArtifactPrefix(tenant, model, runId) + "card.json";

    private static string HeadKey(string model) => $"h|{model}";

    private static string VersionKey(string model, int version) => $"v|{model}|{version:D6}";

    private static string RevocationKey(string model, int version) => $"r|{model}|{version:D6}";
}
