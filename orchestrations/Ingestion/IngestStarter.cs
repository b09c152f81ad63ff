using System.Diagnostics;
using Lepton.Telemetry;
using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Events;
using Lepton.Ingestion;
using Lepton.Orchestrations.Prediction;
using Lepton.Prediction;
using Lepton.Storage;
using Lepton.Tenancy;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Lepton.Orchestrations.Ingestion;

public sealed record StartedIngest(string RunId, string Tenant, string Blob, bool Duplicate);

public sealed record WebhookResult(string? ValidationCode, IReadOnlyList<StartedIngest> Runs, int Ignored);

/// <summary>
/// Turns Event Grid deliveries into ingest runs. One webhook serves every tenant account: the registry maps the
/// event's storage account to its tenant, and the run id is derived from (account, path, ETag) so redelivery is a no-op.
/// </summary>
public sealed partial class IngestStarter(TenantRegistry registry, TenantStorageFactory tenants, DatasetCatalog catalog, ILogger<IngestStarter> logger)
{
    public async Task<WebhookResult> HandleAsync(DurableTaskClient client, BinaryData body, CancellationToken ct = default)
    {
        using Activity? activity = LeptonTelemetry.Source.StartActivity("ingest.webhook", ActivityKind.Server);
        WebhookDelivery delivery;
        try
        {
            delivery = BlobCreatedEvents.Parse(body);
        }
        catch (FormatException e)
        {
            throw LeptonException.BadRequest(e.Message);
        }

        if (delivery.ValidationCode is not null)
        {
            return new WebhookResult(delivery.ValidationCode, [], 0);
        }

        var runs = new List<StartedIngest>();
        int ignored = delivery.IgnoredEvents;
        foreach (BlobCreated blob in delivery.BlobsCreated)
        {
            StartedIngest? run = await StartAsync(client, blob, ct);
            if (run is null)
            {
                ignored++;
            }
            else
            {
                runs.Add(run);
            }
        }

        return new WebhookResult(null, runs, ignored);
    }

    private async Task<StartedIngest?> StartAsync(DurableTaskClient client, BlobCreated blob, CancellationToken ct)
    {
        bool scoring = blob.Container == BlobLayout.PredictionsContainer && blob.BlobName.StartsWith(BatchScoring.InPrefix, StringComparison.Ordinal);
        if ((blob.Container != BlobLayout.IngestContainer && !scoring) || blob.BlobName.EndsWith("/" + BlobLayout.DatasetSpecFileName, StringComparison.Ordinal))
        {
            return null;
        }

        Tenant? tenant = await registry.FindByAccountAsync(blob.Account, ct);
        if (tenant is null)
        {
            LogUnknownAccount(blob.Account, blob.BlobName);
            return null;
        }

        if (tenant.Disabled)
        {
            LogDisabledTenant(tenant.Id, blob.BlobName);
            return null;
        }

        // The run is keyed by the ETag storage reports now, not the one the event carries: an event with an empty or forged
        // ETag can then neither re-ingest the same content as a new version nor reject a file as "overwritten".
        string? etag = await CurrentETagAsync(tenant, blob, ct);
        if (etag is null)
        {
            return null;
        }

        blob = blob with { ETag = etag };
        if (scoring)
        {
            return await StartScoringAsync(client, blob, tenant, ct);
        }

        string runId = InstanceIds.ForIngest(blob.Account, blob.Container, blob.BlobName, blob.ETag);
        bool inFolder = BlobLayout.TryParseIngestBlob(blob.BlobName, out string dataset, out string fileName) && Names.IsValidDataset(dataset);
        var request = new IngestRequest(tenant.Id, blob.Account, blob.BlobName, blob.ETag, inFolder ? dataset : null, inFolder ? fileName : null, runId)
        {
            TraceParent = Activity.Current?.Id,
        };
        Activity.Current?.SetTag(LeptonTelemetry.TenantTag, tenant.Id).SetTag(LeptonTelemetry.RunTag, runId);
        // The catalog's insert of the run decides which delivery was first (concurrent redeliveries race past any read);
        // the run is scheduled either way, idempotently, so a first try that stopped before scheduling is completed now.
        bool first = !inFolder || await catalog.RecordRunAsync(tenant.Id, dataset, runId, fileName, blob.ETag, ct);
        bool started = await client.ScheduleOnceAsync(nameof(IngestOrchestrator), request, runId, ct);
        if (!(inFolder ? first : started))
        {
            return new StartedIngest(runId, tenant.Id, blob.BlobName, Duplicate: true);
        }

        LogStarted(runId, tenant.Id, blob.BlobName);
        return new StartedIngest(runId, tenant.Id, blob.BlobName, Duplicate: false);
    }

    /// <summary>A file in predictions/in/&lt;model&gt;/ is scored; the run id follows the same (account, path, ETag) rule.</summary>
    private async Task<StartedIngest?> StartScoringAsync(DurableTaskClient client, BlobCreated blob, Tenant tenant, CancellationToken ct)
    {
        if (!BatchScoring.TryParse(blob.BlobName, out string model, out string fileName))
        {
            return null;
        }

        string runId = "score-" + InstanceIds.ForIngest(blob.Account, blob.Container, blob.BlobName, blob.ETag)["ingest-".Length..];
        var request = new BatchRequest(tenant.Id, blob.BlobName, blob.ETag, model, fileName, runId);
        bool started = await client.ScheduleOnceAsync(nameof(BatchScoringOrchestrator), request, runId, ct);
        return new StartedIngest(runId, tenant.Id, blob.BlobName, Duplicate: !started);
    }

    private async Task<string?> CurrentETagAsync(Tenant tenant, BlobCreated blob, CancellationToken ct)
    {
        TenantStorage storage = await tenants.ForTenantAsync(tenant.Id, ct);
        try
        {
            return (await storage.Service.GetBlobContainerClient(blob.Container).GetBlobClient(blob.BlobName).GetPropertiesAsync(cancellationToken: ct)).Value.ETag.ToString().Trim('"');
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            LogBlobGone(tenant.Id, blob.BlobName);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignoring blob event for tenant {Tenant}: {Blob} no longer exists")]
    private partial void LogBlobGone(string tenant, string blob);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring blob event for disabled tenant {Tenant} ({Blob})")]
    private partial void LogDisabledTenant(string tenant, string blob);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring blob event from unregistered storage account {Account} ({Blob})")]
    private partial void LogUnknownAccount(string account, string blob);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started ingest {RunId} for tenant {Tenant}: {Blob}")]
    private partial void LogStarted(string runId, string tenant, string blob);
}
