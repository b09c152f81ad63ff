using Lepton.Events;

namespace Lepton.Tests.Unit.Events;

public class BlobCreatedEventsTests
{
    private const string EventGridBatch = """
        [{
          "id": "1", "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/tenantstore01",
          "subject": "/blobServices/default/containers/ingest/blobs/sales/jan.csv",
          "eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "", "metadataVersion": "1",
          "data": { "api": "PutBlob", "eTag": "0x8DB1", "contentType": "text/csv", "contentLength": 42, "blobType": "BlockBlob",
                    "url": "https://tenantstore01.blob.core.windows.net/ingest/sales/jan.csv" }
        }]
        """;

    [Fact]
    public void Parse_EventGridSchema_ReturnsBlobCreated()
    {
        WebhookDelivery delivery = BlobCreatedEvents.Parse(BinaryData.FromString(EventGridBatch));

        BlobCreated blob = Assert.Single(delivery.BlobsCreated);
        Assert.Equal(("tenantstore01", "ingest", "sales/jan.csv", "0x8DB1", 42L), (blob.Account, blob.Container, blob.BlobName, blob.ETag, blob.ContentLength));
        Assert.Null(delivery.ValidationCode);
    }

    [Fact]
    public void Parse_CloudEventsSchema_ReturnsBlobCreated()
    {
        const string cloudEvents = """
            [{
              "specversion": "1.0", "id": "2", "type": "Microsoft.Storage.BlobCreated",
              "source": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/tenantstore02",
              "subject": "/blobServices/default/containers/ingest/blobs/d/f.csv", "time": "2026-01-01T00:00:00Z",
              "data": { "api": "PutBlob", "eTag": "0x1", "contentLength": 7, "blobType": "BlockBlob",
                        "url": "https://tenantstore02.blob.core.windows.net/ingest/d/f.csv" }
            }]
            """;

        WebhookDelivery delivery = BlobCreatedEvents.Parse(BinaryData.FromString(cloudEvents));

        Assert.Equal("tenantstore02", Assert.Single(delivery.BlobsCreated).Account);
    }

    [Fact]
    public void Parse_SubscriptionValidation_ReturnsCode()
    {
        const string handshake = """
            [{ "id": "3", "topic": "t", "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
               "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "2", "metadataVersion": "1",
               "data": { "validationCode": "abc-123", "validationUrl": "https://example.invalid" } }]
            """;

        Assert.Equal("abc-123", BlobCreatedEvents.Parse(BinaryData.FromString(handshake)).ValidationCode);
    }

    [Fact]
    public void Parse_PathStyleAzuriteUrl_ReadsAccountFromPath()
    {
        string batch = EventGridBatch.Replace("https://tenantstore01.blob.core.windows.net/ingest", "http://127.0.0.1:10000/tenantstore01/ingest");

        BlobCreated blob = Assert.Single(BlobCreatedEvents.Parse(BinaryData.FromString(batch)).BlobsCreated);

        Assert.Equal(("tenantstore01", "ingest", "sales/jan.csv"), (blob.Account, blob.Container, blob.BlobName));
    }

    [Fact]
    public void Parse_OtherEventType_IsCountedAsIgnored()
    {
        string batch = EventGridBatch.Replace("Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted");

        WebhookDelivery delivery = BlobCreatedEvents.Parse(BinaryData.FromString(batch));

        Assert.Empty(delivery.BlobsCreated);
        Assert.Equal(1, delivery.IgnoredEvents);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[{\"id\": 1}]")]
    public void Parse_Malformed_ThrowsFormatException(string body) =>
        Assert.Throws<FormatException>(() => BlobCreatedEvents.Parse(BinaryData.FromString(body)));
}

public class InstanceIdsTests
{
    [Fact]
    public void ForIngest_SameInput_SameId() =>
        Assert.Equal(InstanceIds.ForIngest("a", "ingest", "d/f.csv", "0x1"), InstanceIds.ForIngest("a", "ingest", "d/f.csv", "\"0x1\""));

    [Theory]
    [InlineData("b", "ingest", "d/f.csv", "0x1")]
    [InlineData("a", "ingest", "d/g.csv", "0x1")]
    [InlineData("a", "ingest", "d/f.csv", "0x2")]
    public void ForIngest_AnyPartDiffers_DifferentId(string account, string container, string blob, string etag) =>
        Assert.NotEqual(InstanceIds.ForIngest("a", "ingest", "d/f.csv", "0x1"), InstanceIds.ForIngest(account, container, blob, etag));

    [Fact]
    public void ForIngest_Id_IsPrefixedAndBounded()
    {
        string id = InstanceIds.ForIngest("a", "ingest", "d/f.csv", "0x1");

        Assert.StartsWith("ingest-", id);
        Assert.Equal(39, id.Length);
    }
}
