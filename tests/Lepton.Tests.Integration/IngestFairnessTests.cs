using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>Fair shares of ingest capacity: one tenant's burst of uploads does not hold up another tenant's file.</summary>
public sealed class IngestFairnessTests() : OwnDevHost(new Dictionary<string, string>
{
    ["Lepton__Ingestion__MaxConcurrentRunsPerTenant"] = "1",
})
{
    [Fact]
    public async Task Ingest_OneTenantUploadsABurst_AnotherTenantsFileIsNotQueuedBehindIt()
    {
        // Arrange: a burst of files from one tenant, all uploaded before the other tenant's single file
        const int burst = 12;
        using var client = new LeptonClient(Host.BaseUrl);
        (string busyKey, _) = await client.CreateTenantAsync("busy");
        (string calmKey, _) = await client.CreateTenantAsync("calm");
        byte[] file = TestData.Sample("breast_cancer_hospital_a.csv");
        await Task.WhenAll(Enumerable.Range(0, burst).Select(i => client.UploadAsync(busyKey, "busy", "burst", $"part-{i:D2}.csv", file)));

        // Act
        await client.UploadAsync(calmKey, "calm", "single", "single.csv", file);
        await client.WaitForRunsAsync(calmKey, "calm", "single", timeout: TimeSpan.FromMinutes(2));
        int busyDoneBeforeCalm = await PublishedAsync(client, busyKey);
        JsonNode busy = await client.WaitForRunsAsync(busyKey, "busy", "burst", runs: burst, timeout: TimeSpan.FromMinutes(5));

        // Assert: the other tenant's file went through while most of the burst still waited, and the burst lost nothing
        Assert.True(busyDoneBeforeCalm < burst / 2, $"{busyDoneBeforeCalm} of the burst's {burst} files were ingested before the other tenant's one file.");
        Assert.Equal(burst, busy["runs"]!.AsArray().Count(r => r!["status"]!.GetValue<string>() == "published"));
        Assert.Equal(burst, busy["versions"]!.AsArray().Count);
    }

    private static async Task<int> PublishedAsync(LeptonClient client, string key)
    {
        JsonNode dataset = await client.JsonAsync(HttpMethod.Get, "/api/tenants/busy/datasets/burst", key);
        return dataset["runs"]!.AsArray().Count(r => r!["status"]!.GetValue<string>() == "published");
    }
}
