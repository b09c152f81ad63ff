using System.Net.Http.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lepton.Events;
using Lepton.Storage;
using Lepton.Tenancy;

namespace Lepton.DevHost.Storage;

/// <summary>
/// Azurite emits no Event Grid events, so this watches every registered tenant's ingest container (and predictions/in/) and posts the
/// BlobCreated events Event Grid would send, over HTTP, to the same webhook function. At start it reports every blob
/// once (at-least-once, like Event Grid); the webhook's deterministic run ids make repeats no-ops.
/// </summary>
public sealed partial class IngestWatcher(
    TenantRegistry registry,
    StorageClients storage,
    IHttpClientFactory httpClients,
    WebhookTarget target,
    ILogger<IngestWatcher> logger) : BackgroundService
{
    private readonly Dictionary<(string Account, string Blob), string> _seen = [];

    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HttpClient http = httpClients.CreateClient(nameof(IngestWatcher));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (Tenant tenant in await registry.ListAsync(stoppingToken))
                {
                    await ScanAsync(http, tenant.StorageAccount, BlobLayout.IngestContainer, null, stoppingToken);
                    await ScanAsync(http, tenant.StorageAccount, BlobLayout.PredictionsContainer, Lepton.Prediction.BatchScoring.InPrefix, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage or the webhook is away (the SDK reports exhausted retries as an AggregateException): keep
                // watching, so events flow again as soon as it is back — a watcher that dies would never deliver again.
                LogScanFailed(e.Message);
            }

            await Task.Delay(PollInterval, stoppingToken);
        }
    }

    private async Task ScanAsync(HttpClient http, string account, string container, string? prefix, CancellationToken ct)
    {
        BlobContainerClient ingest = storage.TenantContainer(account, container);
        await foreach (BlobItem blob in ingest.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, ct))
        {
            string etag = blob.Properties.ETag?.ToString() ?? "";
            if (_seen.TryGetValue((account, $"{container}/{blob.Name}"), out string? known) && known == etag)
            {
                continue;
            }

            Uri url = ingest.GetBlobClient(blob.Name).Uri;
            var delivery = new[]
            {
                new
                {
                    id = Guid.NewGuid().ToString(),
                    topic = $"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/lepton-local/providers/Microsoft.Storage/storageAccounts/{account}",
                    subject = $"/blobServices/default/containers/{container}/blobs/{blob.Name}",
                    eventType = BlobCreatedEvents.BlobCreatedType,
                    eventTime = blob.Properties.LastModified ?? DateTimeOffset.UtcNow,
                    dataVersion = "",
                    metadataVersion = "1",
                    data = new
                    {
                        api = "PutBlob",
                        eTag = etag.Trim('"'),
                        contentType = blob.Properties.ContentType ?? "application/octet-stream",
                        contentLength = blob.Properties.ContentLength ?? 0,
                        blobType = "BlockBlob",
                        url = url.ToString(),
                        sequencer = "0",
                    },
                },
            };
            using HttpResponseMessage response = await http.PostAsJsonAsync(target.Url, delivery, ct);
            if (response.IsSuccessStatusCode)
            {
                _seen[(account, $"{container}/{blob.Name}")] = etag;
            }
            else
            {
                LogDeliveryFailed(blob.Name, (int)response.StatusCode);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scanning ingest containers failed: {Reason}")]
    private partial void LogScanFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The webhook answered {Status} for {Blob}; retrying on the next scan")]
    private partial void LogDeliveryFailed(string blob, int status);
}

/// <summary>The webhook URL, with its function key, that the watcher posts to.</summary>
public sealed record WebhookTarget(Uri Url);
