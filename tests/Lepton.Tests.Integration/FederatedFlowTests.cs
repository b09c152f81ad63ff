using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>Federated training through the dev host: rounds of local training per member, aggregated; rows never leave their owner.</summary>
[Collection(DevHostCollection.Name)]
public class FederatedFlowTests(DevHostFixture fixture)
{
    private static readonly string[] Hospitals = ["breast_cancer_hospital_a.csv", "breast_cancer_hospital_b.csv", "breast_cancer_hospital_c.csv"];
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    public async Task Federated_ThreeHospitalsWithSecureAggregation_ServesAndEachReadIsInItsOwnersChain()
    {
        // Arrange
        Dictionary<string, string> keys = await CollaborationAsync("fh", ["fh-a", "fh-b", "fh-c"], Hospitals, "malignant", "binary");

        // Act
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fh/models", keys["fh-b"],
            new { name = "onco", rounds = 8, localEpochs = 3, secureAggregation = true }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(keys["fh-c"], started["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/fh/models/onco", keys["fh-a"]);
        string[] header = TestData.Lines(TestData.Sample(Hospitals[0]))[0].Split(',');
        var rows = TestData.Lines(TestData.Sample(Hospitals[0])).Skip(1).Take(30).Select(l => header.Zip(l.Split(',')).Where(p => p.First != "malignant")
            .ToDictionary(p => p.First, p => (object)double.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        JsonNode predicted = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fh/models/onco/predict", keys["fh-c"], new { rows });

        // Assert: the run went round by round, the model is registered with its rounds and serves sensible predictions
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        Assert.Equal("federated", run["kind"]!.GetValue<string>());
        Assert.Equal(8, run["details"]!["Rounds"]!.AsArray().Count);
        JsonNode version = model["versions"]![0]!;
        Assert.Equal(8, version["federated"]!["rounds"]!.GetValue<int>());
        Assert.True(version["federated"]!["secureAggregation"]!.GetValue<bool>());
        Assert.All(new[] { "fh-a", "fh-b", "fh-c" }, m => Assert.Equal(8, version["federated"]!["roundsParticipated"]![m]!.GetValue<int>()));
        Assert.InRange(version["metricValue"]!.GetValue<double>(), 0.95, 1.0);
        using (HttpResponseMessage masked = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/fh/models/onco/contributions", keys["fh-a"], new { }))
        {
            Assert.Equal(HttpStatusCode.Conflict, masked.StatusCode);
        }

        string[] labels = TestData.Lines(TestData.Sample(Hospitals[0])).Skip(1).Take(30).Select(l => l.Split(',')[^1]).ToArray();
        double accuracy = predicted["predictions"]!.AsArray().Select((p, i) => p!["label"]!.GetValue<string>() == labels[i]).Count(ok => ok) / 30.0;
        Assert.True(accuracy >= 0.9, $"accuracy {accuracy}");

        // every storage client a member's federated activity obtained was that member's own account
        string[] scoped = File.ReadAllLines(DevHostFixture.StorageAccessLog).Select(l => l.Split('\t'))
            .Where(f => f[0].Contains(":fh-", StringComparison.Ordinal)).Select(f => $"{f[0][(f[0].IndexOf(':') + 1)..]}->{f[1]}").ToArray();
        Assert.All(new[] { "fh-a", "fh-b", "fh-c" }, m => Assert.Contains($"{m}->{m}", scoped));
        Assert.All(scoped, line => Assert.Equal(line[..line.IndexOf("->", StringComparison.Ordinal)], line[(line.IndexOf("->", StringComparison.Ordinal) + 2)..]));

        // every read of a member's rows was authorized against its own grant and is in its own chain, and only there
        foreach (string member in keys.Keys)
        {
            JsonArray entries = (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{member}/audit?max=5000", keys[member]))["entries"]!.AsArray();
            JsonNode[] uses = entries.Where(e => e!["action"]!.GetValue<string>() == "data.use").Select(e => e!).ToArray();
            Assert.NotEmpty(uses);
            Assert.All(uses, e => Assert.StartsWith($"{member}/datasets/", e["resource"]!.GetValue<string>()));
            Assert.Contains(uses, e => e["purpose"]!.GetValue<string>() == "train");
            Assert.Contains(uses, e => e["purpose"]!.GetValue<string>() == "evaluate");
            Assert.True((await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{member}/audit/verify", keys[member]))["valid"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task Federated_DigitsFiveMembers_CompletesAndServes()
    {
        string[] members = Enumerable.Range(1, 5).Select(i => $"fd-{i}").ToArray();
        Dictionary<string, string> keys = await CollaborationAsync("fd", members, Enumerable.Range(1, 5).Select(i => $"digits_member_{i}.csv").ToArray(), "digit", "multiclass");

        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fd/models", keys["fd-1"],
            new { name = "digits", rounds = 10, localEpochs = 2, hidden = new[] { 32 } }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(keys["fd-2"], started["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));
        string[] pixels = TestData.Lines(TestData.Sample("digits_member_3.csv"))[1].Split(',');
        var row = Enumerable.Range(0, 64).ToDictionary(i => $"px{i}", i => (object)double.Parse(pixels[i], System.Globalization.CultureInfo.InvariantCulture));
        JsonNode predicted = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fd/models/digits/predict", keys["fd-5"], new { rows = new[] { row } });
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/fd/models/digits", keys["fd-4"]);

        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        Assert.Equal(pixels[^1], predicted["predictions"]![0]!["label"]!.GetValue<string>());
        Assert.InRange(model["versions"]![0]!["metricValue"]!.GetValue<double>(), 0.85, 1.0);

        // contributions from the stored round updates, without retraining: the same report, shares and verification
        JsonNode contribution = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fd/models/digits/contributions", keys["fd-3"],
            new { method = "shapley" }, HttpStatusCode.Accepted);
        JsonNode contributionRun = await _client.WaitForRunAsync(keys["fd-3"], contribution["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));
        Assert.True(contributionRun["status"]!.GetValue<string>() == "Completed", contributionRun.ToJsonString());
        JsonNode report = await _client.JsonAsync(HttpMethod.Get, contribution["reportUrl"]!.GetValue<string>(), keys["fd-1"]);
        JsonNode verify = await _client.JsonAsync(HttpMethod.Get, contribution["reportUrl"]!.GetValue<string>() + "/verify", keys["fd-2"]);
        Assert.Equal(members, report["members"]!.AsArray().Select(m => m!["member"]!.GetValue<string>()));
        Assert.Equal(100, report["members"]!.AsArray().Sum(m => m!["share"]!.GetValue<double>()), 6);
        Assert.Equal(32, report["coalitions"]!.AsArray().Count);
        Assert.True(verify["valid"]!.GetValue<bool>(), verify.ToJsonString());
        double grand = report["grandUtility"]!.GetValue<double>(), empty = report["emptyUtility"]!.GetValue<double>();
        Assert.True(grand > empty, $"the members together ({grand}) should beat no update at all ({empty})");
    }

    [Fact]
    public async Task Federated_MemberFailingEveryRound_RunCompletesWithoutItAndReportsIt()
    {
        // Arrange
        Dictionary<string, string> keys = await CollaborationAsync("ff", ["ff-a", "ff-b", "ff-c"], Hospitals, "malignant", "binary");
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/ff/models", keys["ff-a"],
            new { name = "onco", rounds = 40, patience = 40, localEpochs = 1 }, HttpStatusCode.Accepted);
        string runId = started["runId"]!.GetValue<string>();

        // Act: once rounds are under way, member c withdraws its data: its every later read is refused
        await WaitUntilAsync(keys["ff-a"], runId, details => details?["Rounds"]?.AsArray().Count > 0);
        JsonNode grants = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/ff-c/datasets/data/grants", keys["ff-c"]);
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/ff-c/datasets/data/grants/{grants["grants"]![0]!["grantId"]}", keys["ff-c"]);
        JsonNode run = await _client.WaitForRunAsync(keys["ff-a"], runId, TimeSpan.FromMinutes(4));

        // Assert
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonArray rounds = run["details"]!["Rounds"]!.AsArray();
        Assert.Contains(rounds, r => r!["Skipped"]!.AsArray().Any(s => s!.GetValue<string>() == "ff-c"));
        Assert.All(rounds, r => Assert.True(r!["Reporting"]!.GetValue<int>() >= 2));
        JsonNode version = (await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/ff/models/onco", keys["ff-b"]))["versions"]![0]!;
        Assert.True(version["federated"]!["roundsParticipated"]!["ff-c"]!.GetValue<int>() < version["federated"]!["rounds"]!.GetValue<int>());
        Assert.Equal(version["federated"]!["rounds"]!.GetValue<int>(), version["federated"]!["roundsParticipated"]!["ff-a"]!.GetValue<int>());
    }

    [Fact]
    public async Task Federated_PrivacyBudgetExceededOrClassWeights_RefusedBeforeItStarts()
    {
        string[] members = ["fp-a", "fp-b"];
        Dictionary<string, string> keys = await CollaborationAsync("fp", members, Hospitals[..2], "malignant", "binary",
            new { privacyEpsilon = 2.0, privacyDelta = 1e-5 });

        using HttpResponseMessage refused = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/fp/models", keys["fp-a"],
            new { name = "onco", rounds = 50, clipNorm = 1.0, noiseMultiplier = 1.0 });
        using HttpResponseMessage weighted = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/fp/models", keys["fp-a"],
            new { name = "onco", rounds = 5, classWeights = "balanced" });
        JsonNode withinBudget = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/fp/models", keys["fp-a"],
            new { name = "onco", rounds = 5, clipNorm = 1.0, noiseMultiplier = 20.0 }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(keys["fp-b"], withinBudget["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode version = (await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/fp/models/onco", keys["fp-b"]))["versions"]![0]!;

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("over the agreed budget", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, weighted.StatusCode);
        Assert.Contains("'classWeights' applies to pooled training", await weighted.Content.ReadAsStringAsync());
        Assert.InRange(version["federated"]!["epsilon"]!.GetValue<double>(), 0.01, 2.0);
    }

    private async Task<Dictionary<string, string>> CollaborationAsync(string id, string[] members, string[] files, string label, string type, object? terms = null)
    {
        var keys = new Dictionary<string, string>();
        for (int i = 0; i < members.Length; i++)
        {
            keys[members[i]] = (await _client.CreateTenantAsync(members[i])).ApiKey;
            await _client.UploadAsync(keys[members[i]], members[i], "data", "data.csv", TestData.Sample(files[i]));
        }

        foreach (string member in members)
        {
            await _client.WaitForRunsAsync(keys[member], member, "data");
        }

        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", keys[members[0]],
            new { id, members, mode = "federated", task = new { label, type }, terms }, HttpStatusCode.Created);
        foreach (string member in members.Skip(1))
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{id}/accept", keys[member], new { });
        }

        foreach (string member in members)
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{member}/datasets/data/grants", keys[member],
                new { collaboration = id, purposes = new[] { "train", "evaluate" } }, HttpStatusCode.Created);
        }

        return keys;
    }

    private async Task WaitUntilAsync(string key, string runId, Func<JsonNode?, bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            JsonNode run = await _client.JsonAsync(HttpMethod.Get, $"/api/runs/{runId}", key);
            if (condition(run["details"]))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} did not get there.");
    }
}
