using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>
/// Storage that stops answering (the emulator frozen with SIGSTOP: connections open, no replies) and comes back: callers
/// get 503 with Retry-After within the configured storage timeouts, not a hung request, and the host recovers without a
/// restart.
/// </summary>
[Trait("Category", "Fault")]
public sealed class StorageOutageTests() : OwnDevHost(new Dictionary<string, string>
{
    ["Lepton__Storage__NetworkTimeout"] = "00:00:02",
    ["Lepton__Storage__MaxRetries"] = "1",
})
{
    [Fact]
    public async Task StoragePaused_ThenResumed_503WithRetryAfterThenRecoversWithoutRestart()
    {
        // Arrange: a tenant with one published dataset, then the emulator frozen
        using var client = new LeptonClient(Host.BaseUrl);
        (string key, _) = await client.CreateTenantAsync("outage");
        await client.UploadAsync(key, "outage", "before", "before.csv", TestData.Sample("breast_cancer_hospital_a.csv"));
        await client.WaitForRunsAsync(key, "outage", "before");
        int azurite = Host.AzuritePid!.Value;

        HttpStatusCode listDuring, healthDuring;
        string? retryAfter;
        TimeSpan waited;
        Signal("STOP", azurite);
        try
        {
            // Act: the API while storage does not answer. The key cache lives a second; wait it out so the key is read again.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var clock = Stopwatch.StartNew();
            using HttpResponseMessage list = await client.SendAsync(HttpMethod.Get, "/api/tenants/outage/datasets", key);
            waited = clock.Elapsed;
            listDuring = list.StatusCode;
            retryAfter = list.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using HttpResponseMessage health = await client.SendAsync(HttpMethod.Get, "/api/health", null);
            healthDuring = health.StatusCode;
        }
        finally
        {
            Signal("CONT", azurite);
        }

        // Assert: a prompt 503 with Retry-After, an unhealthy probe, then the same host serving and ingesting again
        Assert.True(listDuring == HttpStatusCode.ServiceUnavailable, $"{listDuring}; the host logged: {Failures(Host.Output)}");
        Assert.NotNull(retryAfter);
        Assert.True(waited < TimeSpan.FromSeconds(30), $"The request was held for {waited}.");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthDuring);
        await WaitForStatusAsync(client, "/api/tenants/outage/datasets", key, HttpStatusCode.OK);
        await client.UploadAsync(key, "outage", "after", "after.csv", TestData.Sample("breast_cancer_hospital_b.csv"));
        JsonNode after = await client.WaitForRunsAsync(key, "outage", "after", timeout: TimeSpan.FromMinutes(3));
        Assert.Equal("published", after["runs"]![0]!["status"]!.GetValue<string>());
    }

    private static string Failures(string output) =>
        string.Join("\n", output.Split('\n').SkipWhile(line => !line.Contains(" failed", StringComparison.Ordinal)).Take(40));

    private static void Signal(string signal, int pid)
    {
        using Process kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task WaitForStatusAsync(LeptonClient client, string path, string key, HttpStatusCode expected)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(1);
        HttpStatusCode last = 0;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.SendAsync(HttpMethod.Get, path, key);
            if ((last = response.StatusCode) == expected)
            {
                return;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"{path} still answers {last} a minute after storage came back.");
    }
}
