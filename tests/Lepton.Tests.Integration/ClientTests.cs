using System.Globalization;
using System.Net;
using System.Text.Json;
using Lepton.Api;
using Lepton.Client;
using LeptonClient = Lepton.Client.LeptonClient;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>The .NET client SDK against the dev host: the partner flow end to end, and errors as typed exceptions.</summary>
[Collection(DevHostCollection.Name)]
public class ClientTests(DevHostFixture fixture)
{
    private Uri Api => new(fixture.Host.BaseUrl, "/api/");

    [Fact]
    public async Task Client_PartnerFlow_UploadTrainWatchPredict()
    {
        // Arrange
        using LeptonClient admin = LeptonClient.Create(Api, DevHostProcess.AdminKey, TimeSpan.FromMilliseconds(300));
        JsonElement created = await admin.CreateTenantAsync(new CreateTenantBody("sdk-flow", "SDK flow"));
        using LeptonClient client = LeptonClient.Create(Api, created.GetProperty("apiKey").GetString()!, TimeSpan.FromMilliseconds(300));
        string file = Path.Combine(Path.GetTempPath(), $"sdk-{Guid.NewGuid():N}.csv");
        await File.WriteAllBytesAsync(file, TestData.Sample("breast_cancer_hospital_a.csv"));
        var sent = new List<long>();
        var stages = new List<string>();

        try
        {
            // Act
            await client.UploadFileAsync("sdk-flow", "bc", file, new SynchronousProgress<long>(sent.Add));
            JsonElement dataset = await client.WaitForDatasetAsync("sdk-flow", "bc", timeout: TimeSpan.FromMinutes(2));
            RunStarted started = await client.StartTrainingAsync("sdk-flow", new StartTrainingBody("bc", ["bc"], "malignant", null, null, 3, ["lbfgs-lr-l2-1", "sdca-lr"]));
            Run run = await client.WaitForRunAsync(started.RunId, new SynchronousProgress<Run>(r => stages.Add(r.Progress?.Stage ?? "")), TimeSpan.FromMinutes(3));
            string[] lines = TestData.Lines(TestData.Sample("breast_cancer_hospital_a.csv"));
            string[] header = lines[0].Split(',');
            var rows = lines.Skip(1).Take(5).Select(l => (IReadOnlyDictionary<string, object?>)header.Zip(l.Split(',')).Where(p => p.First != "malignant")
                .ToDictionary(p => p.First, p => (object?)double.Parse(p.Second, CultureInfo.InvariantCulture))).ToList();
            JsonElement predicted = await client.PredictAsync("sdk-flow", "bc", rows);

            // Assert
            Assert.Equal(new FileInfo(file).Length, sent[^1]);
            Assert.Equal("published", dataset.GetProperty("runs")[0].GetProperty("status").GetString());
            Assert.Equal("Completed", run.Status);
            Assert.Contains("done", stages);
            Assert.Equal(5, predicted.GetProperty("predictions").GetArrayLength());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Client_Errors_AreTypedWithTheProblemsDetail()
    {
        // Arrange: a tenant, its consumer key, and a client without retries for the rate limit
        using LeptonClient admin = LeptonClient.Create(Api, DevHostProcess.AdminKey);
        string key = (await admin.CreateTenantAsync(new CreateTenantBody("sdk-errors", "SDK errors"))).GetProperty("apiKey").GetString()!;
        using LeptonClient owner = LeptonClient.Create(Api, key);
        string consumerKey = (await owner.CreateKeyAsync("sdk-errors", new CreateKeyBody(["consumer"], null))).GetProperty("apiKey").GetString()!;
        using LeptonClient consumer = LeptonClient.Create(Api, consumerKey);
        using LeptonClient stranger = LeptonClient.Create(Api, "lep_0000000000000000_nope");
        using var noRetries = new LeptonClient(new HttpClient { BaseAddress = Api }, new LeptonClientOptions { Endpoint = Api, ApiKey = key });
        var tooMany = Enumerable.Range(0, 1001).Select(_ => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["x"] = 1.0 }).ToList();

        // Act + Assert
        var unauthorized = await Assert.ThrowsAsync<LeptonUnauthorizedException>(() => stranger.ListDatasetsAsync("sdk-errors"));
        var forbidden = await Assert.ThrowsAsync<LeptonForbiddenException>(() => consumer.CreateKeyAsync("sdk-errors", new CreateKeyBody(["admin"], null)));
        var notFound = await Assert.ThrowsAsync<LeptonNotFoundException>(() => owner.GetModelAsync("sdk-errors", "nothing-here"));
        await Assert.ThrowsAsync<LeptonPayloadTooLargeException>(() => owner.PredictAsync("sdk-errors", "nothing-here", tooMany));
        await Assert.ThrowsAsync<LeptonValidationException>(() => owner.StartTrainingAsync("sdk-errors", new StartTrainingBody("Bad Name", ["x"], null, null, null, null, null)));
        Assert.Contains("API key", unauthorized.Detail);
        Assert.Contains("role", forbidden.Detail);
        Assert.Equal(HttpStatusCode.NotFound, notFound.Status);

        LeptonRateLimitedException? limited = null;
        for (int i = 0; i < DevHostFixture.RateBurst * 3 && limited is null; i++)
        {
            limited = await Record.ExceptionAsync(() => noRetries.ListDatasetsAsync("sdk-errors")) as LeptonRateLimitedException;
        }

        Assert.NotNull(limited);
        Assert.True(limited.RetryAfter >= TimeSpan.FromSeconds(1));

        // The resilient client rides out the same limit: it waits as Retry-After says and succeeds.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Task.WhenAll(Enumerable.Range(0, DevHostFixture.RateBurst + 20).Select(_ => owner.ListDatasetsAsync("sdk-errors")));
    }

    /// <summary>Progress reported on the caller's thread at once (Progress&lt;T&gt; posts to the thread pool later).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
