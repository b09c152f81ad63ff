using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Tests.Integration.Infrastructure;

namespace Lepton.Tests.Integration;

/// <summary>Organizations training together through the dev host: agreements, grants to a collaboration, pooled models, contributions.</summary>
[Collection(DevHostCollection.Name)]
public class CollaborationFlowTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    public async Task Lifecycle_ProposeAcceptChangeLeave_StateAndAccessFollowTheAgreement()
    {
        // Arrange
        string[] members = ["lc-a", "lc-b", "lc-c"];
        Dictionary<string, string> keys = await TenantsAsync(members);
        (string outsider, _) = await _client.CreateTenantAsync("lc-out");

        // Act + Assert: proposed until every member accepts; training is refused meanwhile
        JsonNode proposed = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", keys["lc-a"],
            new { id = "lc", name = "Lifecycle", members, task = new { label = "label", type = "binary" }, mode = "pooled", allocation = "shapley" }, HttpStatusCode.Created);
        Assert.Equal("proposed", proposed["state"]!.GetValue<string>());
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/lc/accept", keys["lc-b"], new { });
        using (HttpResponseMessage refused = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/lc/models", keys["lc-a"], new { name = "m" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("lc-c", await refused.Content.ReadAsStringAsync());
        }

        JsonNode active = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/lc/accept", keys["lc-c"], new { });
        Assert.Equal("active", active["state"]!.GetValue<string>());

        // a non-member sees nothing, whatever the route
        foreach ((HttpMethod method, string path) in new[]
        {
            (HttpMethod.Get, "/api/collaborations/lc"), (HttpMethod.Get, "/api/collaborations/lc/data"), (HttpMethod.Post, "/api/collaborations/lc/accept"),
            (HttpMethod.Patch, "/api/collaborations/lc"), (HttpMethod.Post, "/api/collaborations/lc/leave"), (HttpMethod.Post, "/api/collaborations/lc/models"),
            (HttpMethod.Get, "/api/collaborations/lc/ledger"), (HttpMethod.Post, "/api/collaborations/lc/models/m/predict"),
            (HttpMethod.Get, "/api/collaborations/lc/models/m/contributions"), (HttpMethod.Get, "/api/collaborations/nope"),
        })
        {
            using HttpResponseMessage response = await _client.SendAsync(method, path, outsider, rawBody: method == HttpMethod.Get ? null : "{}");
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            Assert.DoesNotContain("lc-a", await response.Content.ReadAsStringAsync());
        }

        JsonNode outsiderList = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations", outsider);
        Assert.Empty(outsiderList["collaborations"]!.AsArray());

        // a change of terms needs everyone's acceptance again
        JsonNode changed = await _client.JsonAsync(HttpMethod.Patch, "/api/collaborations/lc", keys["lc-b"], new { terms = new { evaluationFraction = 0.25 } });
        Assert.Equal("proposed", changed["state"]!.GetValue<string>());
        Assert.Equal(2, changed["revision"]!.GetValue<int>());
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/lc/accept", keys["lc-a"], new { });
        JsonNode reaccepted = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/lc/accept", keys["lc-c"], new { });
        Assert.Equal("active", reaccepted["state"]!.GetValue<string>());
        Assert.Equal(0.25, reaccepted["terms"]!["evaluationFraction"]!.GetValue<double>());

        // leaving ends membership; the others go on
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/lc/leave", keys["lc-c"], new { });
        using (HttpResponseMessage gone = await _client.SendAsync(HttpMethod.Get, "/api/collaborations/lc", keys["lc-c"]))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        JsonNode remaining = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/lc", keys["lc-a"]);
        Assert.Equal("active", remaining["collaboration"]!["state"]!.GetValue<string>());

        // every change is in every member's chain, and the chains verify
        foreach (string member in members)
        {
            string[] actions = await AuditActionsAsync(keys[member], member);
            Assert.Contains("collaboration.proposed", actions);
            Assert.Equal(4, actions.Count(a => a == "collaboration.accepted"));
            Assert.Contains("collaboration.terms-changed", actions);
            Assert.Contains("collaboration.left", actions);
            await AssertChainVerifiesAsync(keys[member], member);
        }
    }

    [Fact]
    public async Task DataReport_MemberWithoutLabel_IsNamedAndTrainingRefused()
    {
        // Arrange: two hospitals with the label, one whose file lacks it
        string[] members = ["dr-a", "dr-b", "dr-c"];
        Dictionary<string, string> keys = await TenantsAsync(members);
        await ContributeAsync(keys, "dr-a", "bc", TestData.Sample("breast_cancer_hospital_a.csv"));
        await ContributeAsync(keys, "dr-b", "bc", TestData.Sample("breast_cancer_hospital_b.csv"));
        await ContributeAsync(keys, "dr-c", "bc", WithoutColumn(TestData.Sample("breast_cancer_hospital_c.csv"), "malignant"));
        await AgreeAsync(keys, "dr", members, "malignant", "binary");
        await GrantAllAsync(keys, "dr", "bc", members);

        // Act
        JsonNode report = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/dr/data", keys["dr-a"]);
        using HttpResponseMessage training = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/dr/models", keys["dr-a"], new { name = "m" });

        // Assert
        JsonNode c = report["members"]!.AsArray().Single(m => m!["member"]!.GetValue<string>() == "dr-c")!;
        Assert.False(c["compatible"]!.GetValue<bool>());
        Assert.Contains("malignant", c["problems"]![0]!.GetValue<string>());
        Assert.True(report["members"]!.AsArray().Where(m => m!["member"]!.GetValue<string>() != "dr-c").All(m => m!["compatible"]!.GetValue<bool>()));
        Assert.Equal(30, report["sharedFeatures"]!.AsArray().Count);
        Assert.Equal(119, c["rows"]!.GetValue<long>());
        Assert.DoesNotContain("17.99", report.ToJsonString());
        Assert.False(report["readyToTrain"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, training.StatusCode);
        Assert.Contains("dr-c", await training.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Digits_PooledTrainingAndContributions_BeatEverySingleMemberAndVerify()
    {
        // Arrange: five members with label-skewed shares of the digits
        string[] members = Enumerable.Range(1, 5).Select(i => $"dg-{i}").ToArray();
        Dictionary<string, string> keys = await TenantsAsync(members);
        for (int i = 0; i < 5; i++)
        {
            await ContributeAsync(keys, members[i], "digits", TestData.Sample($"digits_member_{i + 1}.csv"));
        }

        await AgreeAsync(keys, "dg", members, "digit", "multiclass", metric: "microAccuracy", creditsPerThousand: 20);
        await GrantAllAsync(keys, "dg", "digits", members);

        // Act: pooled training, a prediction from one member, contributions
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/dg/models", keys["dg-2"],
            new { name = "digits", candidates = new[] { "lbfgs-maxent-l2-1" }, folds = 3 }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(keys["dg-4"], started["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/dg/models/digits", keys["dg-1"]);
        string[] pixels = TestData.Lines(TestData.Sample("digits_member_1.csv"))[1].Split(',');
        var row = Enumerable.Range(0, 64).ToDictionary(i => $"px{i}", i => (object)double.Parse(pixels[i], System.Globalization.CultureInfo.InvariantCulture));
        JsonNode prediction = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/dg/models/digits/predict", keys["dg-5"], new { rows = new[] { row } });
        JsonNode contributionRun = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/dg/models/digits/contributions", keys["dg-1"],
            new { method = "shapley", seed = 3 }, HttpStatusCode.Accepted);
        JsonNode contributed = await _client.WaitForRunAsync(keys["dg-3"], contributionRun["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(5));
        Assert.True(contributed["status"]!.GetValue<string>() == "Completed", contributed.ToJsonString());
        JsonNode report = await _client.JsonAsync(HttpMethod.Get, contributionRun["reportUrl"]!.GetValue<string>(), keys["dg-5"]);
        JsonNode verify = await _client.JsonAsync(HttpMethod.Get, contributionRun["reportUrl"]!.GetValue<string>() + "/verify", keys["dg-2"]);

        // Assert: lineage per member, evaluation on the fixed set, and prediction by another member
        JsonNode version = model["versions"]![0]!;
        Assert.Equal(members, version["members"]!.AsArray().Select(m => m!["member"]!.GetValue<string>()));
        Assert.All(version["members"]!.AsArray(), m => Assert.Matches("^[0-9a-f]{64}$", m!["sourceSha256"]!.GetValue<string>()));
        Assert.All(version["members"]!.AsArray(), m => Assert.StartsWith("g-", m!["grantId"]!.GetValue<string>()));
        Assert.Contains(prediction["predictions"]![0]!["label"]!.GetValue<string>(), "d0 d1 d2 d3 d4 d5 d6 d7 d8 d9".Split(' '));

        // the pooled model beats every member's own model on the same evaluation set (the report's singleton coalitions)
        JsonArray coalitions = report["coalitions"]!.AsArray();
        Assert.Equal(32, coalitions.Count);
        double pooled = report["grandUtility"]!.GetValue<double>();
        double bestSingle = coalitions.Where(c => c!["members"]!.AsArray().Count == 1).Max(c => c!["score"]!.GetValue<double>());
        Assert.True(pooled > bestSingle + 0.05, $"pooled {pooled:F3} vs best single member {bestSingle:F3}");
        Assert.Equal(version["evaluation"]!["*"]!["microAccuracy"]!.GetValue<double>(), pooled, 6);

        // shares sum to 100, values to v(N) - v(empty), and verification agrees
        JsonArray shares = report["members"]!.AsArray();
        Assert.Equal(100, shares.Sum(m => m!["share"]!.GetValue<double>()), 6);
        Assert.Equal(pooled - report["emptyUtility"]!.GetValue<double>(), shares.Sum(m => m!["value"]!.GetValue<double>()), 9);
        Assert.True(verify["valid"]!.GetValue<bool>(), verify.ToJsonString());
        Assert.Equal(3UL, report["seed"]!.GetValue<ulong>());

        // the same seed reproduces the same values (coalitions come from the cache)
        JsonNode again = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/dg/models/digits/contributions", keys["dg-1"],
            new { method = "shapley", seed = 3 }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(keys["dg-1"], again["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3)))["status"]!.GetValue<string>());
        JsonNode repeated = await _client.JsonAsync(HttpMethod.Get, again["reportUrl"]!.GetValue<string>(), keys["dg-1"]);
        Assert.Equal(shares.Select(m => m!["value"]!.GetValue<double>()), repeated["members"]!.AsArray().Select(m => m!["value"]!.GetValue<double>()));

        // every read of a member's data is in its own chain with its purpose, and the chain verifies
        JsonNode audit = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/dg-3/audit?max=2000", keys["dg-3"]);
        JsonNode[] uses = audit["entries"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "data.use").Select(e => e!).ToArray();
        Assert.Contains(uses, e => e["purpose"]!.GetValue<string>() == "train" && e["actor"]!.GetValue<string>().StartsWith("collaboration:dg/run:train-", StringComparison.Ordinal));
        Assert.Contains(uses, e => e["purpose"]!.GetValue<string>() == "evaluate" && e["actor"]!.GetValue<string>().Contains("/run:contrib-", StringComparison.Ordinal));
        Assert.All(uses, e => Assert.StartsWith("allowed by g-", e["outcome"]!.GetValue<string>()));
        Assert.Contains(audit["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "contribution.reported");
        await AssertChainVerifiesAsync(keys["dg-3"], "dg-3");

        // the ledger meters the predicting member and allocates by the latest report
        JsonNode ledger = await WaitForLedgerAsync(keys["dg-1"], "dg", "dg-5");
        JsonNode line = ledger["members"]!.AsArray().Single(m => m!["member"]!.GetValue<string>() == "dg-5")!;
        Assert.Equal(1, line["predictions"]!.GetValue<long>());
        Assert.Equal(0.02, line["creditsCharged"]!.GetValue<double>(), 9);
        Assert.Equal(0.02, ledger["members"]!.AsArray().Sum(m => m!["creditsAllocated"]!.GetValue<double>()), 9);

        // a grant revoked while a contribution run reads the data fails that run readably (revoked right away: the run,
        // all of whose coalitions are cached, could otherwise finish first)
        JsonNode late = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/dg/models/digits/contributions", keys["dg-1"],
            new { method = "banzhaf" }, HttpStatusCode.Accepted);
        string grantId = version["members"]!.AsArray().Single(m => m!["member"]!.GetValue<string>() == "dg-2")!["grantId"]!.GetValue<string>();
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/dg-2/datasets/digits/grants/{grantId}", keys["dg-2"]);
        JsonNode failed = await _client.WaitForRunAsync(keys["dg-1"], late["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        Assert.Equal("Failed", failed["status"]!.GetValue<string>());
        Assert.Contains("dg-2", failed["error"]!.GetValue<string>());
        Assert.Contains("revoked", failed["error"]!.GetValue<string>());
        Assert.DoesNotContain("TaskFailedException", failed["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Contributions_MemberWithShuffledLabels_GetsTheLowestShare()
    {
        // Arrange: four digits members, one of which sends its rows with the labels shuffled
        string[] members = Enumerable.Range(1, 4).Select(i => $"sh-{i}").ToArray();
        Dictionary<string, string> keys = await TenantsAsync(members);
        for (int i = 0; i < 3; i++)
        {
            await ContributeAsync(keys, members[i], "digits", TestData.Sample($"digits_member_{i + 1}.csv"));
        }

        await ContributeAsync(keys, "sh-4", "digits", ShuffledLabels(TestData.Sample("digits_member_4.csv"), seed: 42));
        await AgreeAsync(keys, "sh", members, "digit", "multiclass", metric: "microAccuracy");
        await GrantAllAsync(keys, "sh", "digits", members);
        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/sh/models", keys["sh-1"],
            new { name = "digits", candidates = new[] { "lbfgs-maxent-l2-1" }, folds = 3 }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(keys["sh-1"], started["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4)))["status"]!.GetValue<string>());

        // Act
        JsonNode contributionRun = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/sh/models/digits/contributions", keys["sh-2"], new { }, HttpStatusCode.Accepted);
        JsonNode run = await _client.WaitForRunAsync(keys["sh-2"], contributionRun["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(4));
        JsonNode report = await _client.JsonAsync(HttpMethod.Get, contributionRun["reportUrl"]!.GetValue<string>(), keys["sh-3"]);

        // Assert
        Assert.True(run["status"]!.GetValue<string>() == "Completed", run.ToJsonString());
        JsonNode[] ranked = report["members"]!.AsArray().Select(m => m!).OrderBy(m => m["share"]!.GetValue<double>()).ToArray();
        Assert.Equal("sh-4", ranked[0]["member"]!.GetValue<string>());
        Assert.Equal(100, ranked.Sum(m => m["share"]!.GetValue<double>()), 6);
        Assert.Equal(15, report["trainings"]!.GetValue<int>());
    }

    [Fact]
    public async Task RevokeGrant_WithRevokeModels_MarksTheVersionAndStopsItsPredictions()
    {
        // Arrange: three hospitals train a pooled model; hospital c's grant says revokeModels
        string[] members = ["rv-a", "rv-b", "rv-c"];
        Dictionary<string, string> keys = await TenantsAsync(members);
        string[] files = ["breast_cancer_hospital_a.csv", "breast_cancer_hospital_b.csv", "breast_cancer_hospital_c.csv"];
        for (int i = 0; i < 3; i++)
        {
            await ContributeAsync(keys, members[i], "bc", TestData.Sample(files[i]));
        }

        await AgreeAsync(keys, "rv", members, "malignant", "binary");
        var grants = new Dictionary<string, string>();
        foreach (string member in members)
        {
            grants[member] = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{member}/datasets/bc/grants", keys[member],
                new { collaboration = "rv", purposes = new[] { "train", "evaluate" }, revokeModels = member == "rv-c" }, HttpStatusCode.Created))["grantId"]!.GetValue<string>();
        }

        JsonNode started = await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/rv/models", keys["rv-a"],
            new { name = "bc", candidates = new[] { "lbfgs-lr-l2-1" }, folds = 3 }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(keys["rv-a"], started["runId"]!.GetValue<string>()))["status"]!.GetValue<string>());
        string header = TestData.Lines(TestData.Sample(files[0]))[0];
        var row = header.Split(',').Where(c => c != "malignant").ToDictionary(c => c, _ => (object)1.0);

        // Act + Assert: a grant revoked without revokeModels marks the version; it still serves
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/rv-a/datasets/bc/grants/{grants["rv-a"]}", keys["rv-a"]);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        JsonNode marked = await _client.JsonAsync(HttpMethod.Get, "/api/collaborations/rv/models/bc", keys["rv-b"]);
        Assert.False(marked["versions"]![0]!["revocation"]!["stopsPredictions"]!.GetValue<bool>());
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/rv/models/bc/predict", keys["rv-b"], new { rows = new[] { row } });

        // with revokeModels, predictions stop with a problem that says why
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/rv-c/datasets/bc/grants/{grants["rv-c"]}", keys["rv-c"]);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        using HttpResponseMessage stopped = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/rv/models/bc/predict", keys["rv-b"], new { rows = new[] { row } });
        using HttpResponseMessage stoppedVersion = await _client.SendAsync(HttpMethod.Post, "/api/collaborations/rv/models/bc/versions/1/predict", keys["rv-a"], new { rows = new[] { row } });
        Assert.Equal(HttpStatusCode.Gone, stopped.StatusCode);
        Assert.Equal("application/problem+json", stopped.Content.Headers.ContentType?.MediaType);
        Assert.Contains(grants["rv-c"], await stopped.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Gone, stoppedVersion.StatusCode);
        string[] actions = await AuditActionsAsync(keys["rv-b"], "rv-b");
        Assert.Equal(2, actions.Count(a => a == "model.grant-revoked"));
        Assert.Equal(2, actions.Count(a => a == "grant.revoked"));
    }

    private async Task<Dictionary<string, string>> TenantsAsync(IEnumerable<string> ids)
    {
        var keys = new Dictionary<string, string>();
        foreach (string id in ids)
        {
            keys[id] = (await _client.CreateTenantAsync(id)).ApiKey;
        }

        return keys;
    }

    private async Task ContributeAsync(Dictionary<string, string> keys, string tenant, string dataset, byte[] content)
    {
        await _client.UploadAsync(keys[tenant], tenant, dataset, "data.csv", content);
        JsonNode ingested = await _client.WaitForRunsAsync(keys[tenant], tenant, dataset);
        Assert.Equal("published", ingested["runs"]![0]!["status"]!.GetValue<string>());
    }

    private async Task AgreeAsync(Dictionary<string, string> keys, string id, string[] members, string label, string type, string? metric = null, double creditsPerThousand = 0)
    {
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", keys[members[0]],
            new { id, name = id, members, task = new { label, type, metric }, terms = new { creditsPerThousandPredictions = creditsPerThousand } }, HttpStatusCode.Created);
        foreach (string member in members.Skip(1))
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{id}/accept", keys[member], new { });
        }
    }

    private async Task GrantAllAsync(Dictionary<string, string> keys, string collaboration, string dataset, IEnumerable<string> members)
    {
        foreach (string member in members)
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{member}/datasets/{dataset}/grants", keys[member],
                new { collaboration, purposes = new[] { "train", "evaluate" } }, HttpStatusCode.Created);
        }
    }

    private async Task<string[]> AuditActionsAsync(string key, string tenant) =>
        (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit?max=5000", key))["entries"]!.AsArray()
            .Select(e => e!["action"]!.GetValue<string>()).ToArray();

    private async Task AssertChainVerifiesAsync(string key, string tenant)
    {
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit/verify", key);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
    }

    private async Task<JsonNode> WaitForLedgerAsync(string key, string collaboration, string member)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            JsonNode ledger = await _client.JsonAsync(HttpMethod.Get, $"/api/collaborations/{collaboration}/ledger", key);
            if (ledger["members"]!.AsArray().Any(m => m!["member"]!.GetValue<string>() == member && m["predictions"]!.GetValue<long>() > 0) || DateTime.UtcNow > deadline)
            {
                return ledger;
            }

            await Task.Delay(500);
        }
    }

    private static byte[] WithoutColumn(byte[] csv, string column)
    {
        string[] lines = TestData.Lines(csv);
        int index = Array.IndexOf(lines[0].Split(','), column);
        return Encoding.UTF8.GetBytes(string.Join('\n', lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != index)))) + "\n");
    }

    private static byte[] ShuffledLabels(byte[] csv, int seed)
    {
        string[] lines = TestData.Lines(csv);
        string[] labels = lines.Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]).ToArray();
        new Random(seed).Shuffle(labels);
        return Encoding.UTF8.GetBytes(string.Join('\n', lines.Select((l, i) => i == 0 ? l : l[..(l.LastIndexOf(',') + 1)] + labels[i - 1])) + "\n");
    }
}
