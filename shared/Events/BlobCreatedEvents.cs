using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Azure.Messaging.EventGrid.SystemEvents;
using Azure.Storage.Blobs;

namespace Lepton.Events;

/// <summary>A blob that was created, as far as ingestion cares: where it is and which content version.</summary>
public sealed record BlobCreated(string Account, string Container, string BlobName, string ETag, long ContentLength, Uri Url);

/// <summary>What a webhook delivery holds: a subscription handshake, blob-created events, or neither.</summary>
public sealed record WebhookDelivery(string? ValidationCode, IReadOnlyList<BlobCreated> BlobsCreated, int IgnoredEvents);

/// <summary>Reads Event Grid deliveries in both the Event Grid schema and the CloudEvents 1.0 schema.</summary>
public static class BlobCreatedEvents
{
    public const string BlobCreatedType = "Microsoft.Storage.BlobCreated";

    /// <summary>Parses a delivery; malformed JSON or events throw <see cref="FormatException"/>.</summary>
    public static WebhookDelivery Parse(BinaryData body)
    {
        bool cloudEvents;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            JsonElement first = doc.RootElement.ValueKind == JsonValueKind.Array
                ? doc.RootElement.EnumerateArray().FirstOrDefault()
                : doc.RootElement;
            cloudEvents = first.ValueKind == JsonValueKind.Object && first.TryGetProperty("specversion", out _);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The body is not JSON: {e.Message}", e);
        }

        try
        {
            return cloudEvents ? FromCloudEvents(CloudEvent.ParseMany(body)) : FromEventGrid(EventGridEvent.ParseMany(body));
        }
        catch (Exception e) when (e is ArgumentException or JsonException or InvalidOperationException)
        {
            throw new FormatException($"The body is not a valid event batch: {e.Message}", e);
        }
    }

    private static WebhookDelivery FromEventGrid(EventGridEvent[] events)
    {
        var created = new List<BlobCreated>();
        int ignored = 0;
        foreach (EventGridEvent e in events)
        {
            if (e.TryGetSystemEventData(out object data))
            {
                switch (data)
                {
                    case SubscriptionValidationEventData validation:
                        return new WebhookDelivery(validation.ValidationCode, [], 0);
                    case StorageBlobCreatedEventData blob when ToBlobCreated(blob) is { } b:
                        created.Add(b);
                        continue;
                }
            }

            ignored++;
        }

        return new WebhookDelivery(null, created, ignored);
    }

    private static WebhookDelivery FromCloudEvents(CloudEvent[] events)
    {
        var created = new List<BlobCreated>();
        int ignored = 0;
        foreach (CloudEvent e in events)
        {
            if (e.TryGetSystemEventData(out object data) && data is StorageBlobCreatedEventData blob && ToBlobCreated(blob) is { } b)
            {
                created.Add(b);
            }
            else
            {
                ignored++;
            }
        }

        return new WebhookDelivery(null, created, ignored);
    }

    private static BlobCreated? ToBlobCreated(StorageBlobCreatedEventData data)
    {
        if (!Uri.TryCreate(data.Url, UriKind.Absolute, out Uri? url))
        {
            return null;
        }

        // BlobUriBuilder understands both account-in-host URLs (Azure) and path-style URLs (Azurite).
        var parts = new BlobUriBuilder(url);
        if (string.IsNullOrEmpty(parts.AccountName) || string.IsNullOrEmpty(parts.BlobContainerName) || string.IsNullOrEmpty(parts.BlobName))
        {
            return null;
        }

        return new BlobCreated(parts.AccountName, parts.BlobContainerName, parts.BlobName, data.ETag ?? "", data.ContentLength ?? 0, url);
    }
}

/// <summary>Deterministic orchestration ids: the same input always yields the same id, so a repeated event is a no-op.</summary>
public static class InstanceIds
{
    /// <summary>One ingest per (account, blob path, ETag): a redelivered event maps to the same run, a re-upload (new ETag) to a new one.</summary>
    public static string ForIngest(string account, string container, string blobName, string etag)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{account}\n{container}/{blobName}\n{etag.Trim('"')}"));
        return "ingest-" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
