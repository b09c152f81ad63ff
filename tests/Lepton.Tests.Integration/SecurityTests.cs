using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Functions;
using Lepton.Security;
using Lepton.Tenancy;
using Lepton.Tests.Integration.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Integration;

[Collection(DevHostCollection.Name)]
public class SecurityTests(DevHostFixture fixture)
{
    private readonly LeptonClient _client = fixture.Client;

    /// <summary>Every API-key route of the function app, from its own [Function] methods: a route added later is covered here unchanged.</summary>
    public static IEnumerable<(string Name, string Method, string Route, LeptonAction Action)> Routes() =>
        typeof(LeptonFunctionApp).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => (Method: m, Function: m.GetCustomAttribute<FunctionAttribute>(), Requires: m.GetCustomAttribute<RequiresActionAttribute>(),
                Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.Function is not null && x.Trigger is not null && x.Requires is not null)
            .Select(x => (x.Function!.Name, x.Trigger!.Methods![0].ToUpperInvariant(), x.Trigger.Route!, x.Requires!.Action));

    [Fact]
    public void Routes_EveryHttpFunction_IsAnApiKeyRouteOrKnownOpen()
    {
        string[] open = typeof(LeptonFunctionApp).Assembly.GetExportedTypes().SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null && m.GetCustomAttribute<RequiresActionAttribute>() is null
                && m.GetParameters().Any(p => p.GetCustomAttribute<HttpTriggerAttribute>() is not null))
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()!.Name).Order().ToArray();

        // Health, the API description, the audit signing key (public by nature) and the console's static files are open;
        // the webhook and the trainer's callback are protected by the function key.
        Assert.Equal(["CompleteHeavyTraining", "GetAuditSigningKey", "GetConsole", "GetHealth", "GetOpenApi", "ReceiveBlobCreated"], open);
        Assert.True(Routes().Count() >= 15);
    }

    [Fact]
    public async Task AuthorizationMatrix_EveryRouteAndCaller_AnswersExpectedStatusWithoutLeaking()
    {
        // Arrange: an owner with one key per role, a revoked and an expired key, data, a run and a grant; another tenant.
        const string owner = "mx-owner", other = "mx-other", dataset = "mx-data";
        (string ownerAdmin, _) = await _client.CreateTenantAsync(owner);
        (string otherAdmin, _) = await _client.CreateTenantAsync(other);
        var roleKeys = new Dictionary<string, string>();
        foreach (string role in Roles.All)
        {
            roleKeys[role] = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/keys", ownerAdmin, new { roles = new[] { role } }, HttpStatusCode.Created))["apiKey"]!.GetValue<string>();
        }

        JsonNode revoked = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/keys", ownerAdmin, new { roles = Roles.All }, HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/{owner}/keys/{revoked["keyId"]}", ownerAdmin);
        string expired = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/keys", ownerAdmin,
            new { roles = Roles.All, expiresAt = DateTimeOffset.UtcNow.AddSeconds(2) }, HttpStatusCode.Created))["apiKey"]!.GetValue<string>();
        await _client.UploadAsync(ownerAdmin, owner, dataset, "d.csv", TestData.GeneratedNumeric(20));
        string runId = (await _client.WaitForRunsAsync(ownerAdmin, owner, dataset))["runs"]![0]!["runId"]!.GetValue<string>();
        JsonNode training = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/models", ownerAdmin,
            new { name = dataset, datasets = new[] { dataset }, label = "label", folds = 2, candidates = new[] { "lbfgs-lr-l2-1" } }, HttpStatusCode.Accepted);
        await _client.WaitForRunAsync(ownerAdmin, training["runId"]!.GetValue<string>());
        string grantId = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/datasets/{dataset}/grants", ownerAdmin,
            new { grantee = other, purposes = new[] { "train" } }, HttpStatusCode.Created))["grantId"]!.GetValue<string>();
        string spareKeyId = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{owner}/keys", ownerAdmin, new { roles = new[] { "consumer" } }, HttpStatusCode.Created))["keyId"]!.GetValue<string>();

        // a collaboration of the owner and a third tenant (not the other one), with a pooled model of the same name and a contribution report
        const string collaboration = "mx-collab", partner = "mx-partner";
        (string partnerAdmin, _) = await _client.CreateTenantAsync(partner);
        await _client.UploadAsync(partnerAdmin, partner, dataset, "d.csv", TestData.GeneratedNumeric(20, seed: 7));
        await _client.WaitForRunsAsync(partnerAdmin, partner, dataset);
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", ownerAdmin,
            new { id = collaboration, members = new[] { owner, partner }, task = new { label = "label", type = "binary" } }, HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{collaboration}/accept", partnerAdmin, new { });
        foreach ((string tenant, string key) in new[] { (owner, ownerAdmin), (partner, partnerAdmin) })
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/datasets/{dataset}/grants", key,
                new { collaboration, purposes = new[] { "train", "evaluate" } }, HttpStatusCode.Created);
        }

        JsonNode pooled = await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{collaboration}/models", ownerAdmin,
            new { name = dataset, folds = 2, candidates = new[] { "lbfgs-lr-l2-1" } }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(ownerAdmin, pooled["runId"]!.GetValue<string>()))["status"]!.GetValue<string>());
        JsonNode contribution = await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{collaboration}/models/{dataset}/contributions", ownerAdmin,
            new { }, HttpStatusCode.Accepted);
        Assert.Equal("Completed", (await _client.WaitForRunAsync(ownerAdmin, contribution["runId"]!.GetValue<string>()))["status"]!.GetValue<string>());
        var values = new Dictionary<string, string>
        {
            ["tenant"] = owner, ["dataset"] = dataset, ["runId"] = runId, ["keyId"] = spareKeyId, ["grantId"] = grantId, ["model"] = dataset, ["version"] = "1",
            ["collaboration"] = collaboration, ["contribution"] = contribution["runId"]!.GetValue<string>(),
        };
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var failures = new List<string>();
        int checkedCases = 0;
        // Leaving is last: once the owner has left, its collaboration routes answer 404 to it.
        foreach ((string name, string method, string route, LeptonAction action) in Routes().OrderBy(r => r.Name == "LeaveCollaboration"))
        {
            string path = "/api/" + System.Text.RegularExpressions.Regex.Replace(route, @"\{(\w+)\}", m => values.GetValueOrDefault(m.Groups[1].Value, "x"));
            // Routes naming a tenant's resource answer 404 to anyone else, whose ever it is; runs name their owner in their input.
            bool tenantRoute = route.Contains("{tenant}", StringComparison.Ordinal) || route.Contains("{collaboration}", StringComparison.Ordinal)
                || route.StartsWith("runs/", StringComparison.Ordinal);
            // Proposing and listing collaborations act for the caller's own tenant: any tenant's admin may.
            bool ownTenantRoute = route == "collaborations";
            string? wrongRole = Roles.All.FirstOrDefault(r => !AccessPolicy.RolesFor(action).Contains(r));
            string rightKey = action == LeptonAction.ManageTenants ? DevHostProcess.AdminKey : roleKeys[AccessPolicy.RolesFor(action)[0]];
            var cases = new List<(string Caller, string? Key, Func<HttpStatusCode, bool> Expected, string Description)>
            {
                ("no key", null, s => s == HttpStatusCode.Unauthorized, "401"),
                ("malformed key", "not-a-key", s => s == HttpStatusCode.Unauthorized, "401"),
                ("revoked key", revoked["apiKey"]!.GetValue<string>(), s => s == HttpStatusCode.Unauthorized, "401"),
                ("expired key", expired, s => s == HttpStatusCode.Unauthorized, "401"),
                ownTenantRoute
                    ? ("other tenant's admin", otherAdmin, s => (int)s < 300 || s == HttpStatusCode.BadRequest, "2xx or 400: it acts for itself")
                    : ("other tenant's admin", otherAdmin, s => s == (tenantRoute || action == LeptonAction.ReadRuns ? HttpStatusCode.NotFound : HttpStatusCode.Forbidden), "404 (403 for tenant management)"),
            };
            if (action == LeptonAction.ManageTenants)
            {
                cases.Add(("tenant admin", ownerAdmin, s => s == HttpStatusCode.Forbidden, "403"));
            }
            else if (wrongRole is not null)
            {
                // Before the right role: a wrong role must be refused before anything happens.
                cases.Add(($"same tenant, role {wrongRole}", roleKeys[wrongRole], s => s == HttpStatusCode.Forbidden, "403"));
            }

            // The run the matrix cancels has ended, so the right role meets the run's state (409), not the policy.
            cases.Add(("right role", rightKey, s => (int)s < 300 || s == HttpStatusCode.BadRequest || (name == "CancelRun" && s == HttpStatusCode.Conflict),
                "2xx or 400 for the empty body"));

            foreach ((string caller, string? key, Func<HttpStatusCode, bool> expected, string description) in cases)
            {
                using HttpResponseMessage response = await _client.SendAsync(new HttpMethod(method), path, key, rawBody: method is "POST" or "PATCH" ? "{}" : null);
                string body = await response.Content.ReadAsStringAsync();
                checkedCases++;
                if (!expected(response.StatusCode))
                {
                    failures.Add($"{name} {method} {path} as {caller}: expected {description}, got {(int)response.StatusCode} {body}");
                }

                if (caller == "other tenant's admin" && (body.Contains(owner, StringComparison.Ordinal) || body.Contains(dataset, StringComparison.Ordinal)))
                {
                    failures.Add($"{name} as {caller} leaks the owner's names: {body}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(checkedCases >= Routes().Count() * 6, $"only {checkedCases} cases ran");
    }

    [Fact]
    public async Task Keys_IssueListRevoke_RevocationIsImmediateAndOnlyHashesAreStored()
    {
        (string admin, _) = await _client.CreateTenantAsync("keys-life");
        JsonNode issued = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/keys-life/keys", admin, new { roles = new[] { "consumer" } }, HttpStatusCode.Created);
        string key = issued["apiKey"]!.GetValue<string>();

        await _client.JsonAsync(HttpMethod.Get, "/api/tenants/keys-life/datasets", key);
        JsonNode list = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/keys-life/keys", admin);
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/keys-life/keys/{issued["keyId"]}", admin);
        using HttpResponseMessage afterRevoke = await _client.SendAsync(HttpMethod.Get, "/api/tenants/keys-life/datasets", key);

        JsonNode listed = list["keys"]!.AsArray().Single(k => k!["keyId"]!.GetValue<string>() == issued["keyId"]!.GetValue<string>())!;
        Assert.Equal(["consumer"], listed["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.NotNull(listed["lastUsedAt"]);
        Assert.DoesNotContain("hash", list.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);

        // No table or blob of the platform account holds the plain key or its secret part.
        (string blob, string table, IReadOnlyDictionary<string, string> keys) = fixture.Host.Storage();
        string connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={keys["devstoreaccount1"]};BlobEndpoint={blob}/devstoreaccount1;TableEndpoint={table}/devstoreaccount1;";
        // "lep_{hex id}_{secret}": the secret is everything after the id (it may itself contain '_').
        string secret = key[(key.IndexOf('_', "lep_".Length) + 1)..];
        Assert.True(secret.Length >= 40, $"the secret part of the key should be long, not '{secret}'");
        var tables = new TableServiceClient(connection);
        await foreach (Azure.Data.Tables.Models.TableItem t in tables.QueryAsync())
        {
            await foreach (TableEntity entity in tables.GetTableClient(t.Name).QueryAsync<TableEntity>())
            {
                Assert.DoesNotContain(entity, p => p.Value?.ToString()?.Contains(secret, StringComparison.Ordinal) == true);
            }
        }

        var blobs = new BlobServiceClient(connection);
        await foreach (Azure.Storage.Blobs.Models.BlobContainerItem c in blobs.GetBlobContainersAsync())
        {
            await foreach (Azure.Storage.Blobs.Models.BlobItem b in blobs.GetBlobContainerClient(c.Name).GetBlobsAsync())
            {
                string content = (await blobs.GetBlobContainerClient(c.Name).GetBlobClient(b.Name).DownloadContentAsync()).Value.Content.ToString();
                Assert.DoesNotContain(secret, content);
            }
        }
    }

    [Fact]
    public async Task DisableTenant_KeysStopAtOnce_EnableRestores()
    {
        (string admin, _) = await _client.CreateTenantAsync("to-disable");

        await _client.JsonAsync(HttpMethod.Patch, "/api/tenants/to-disable", DevHostProcess.AdminKey, new { disabled = true });
        using HttpResponseMessage whileDisabled = await _client.SendAsync(HttpMethod.Get, "/api/tenants/to-disable/datasets", admin);
        await _client.JsonAsync(HttpMethod.Patch, "/api/tenants/to-disable", DevHostProcess.AdminKey, new { disabled = false });
        using HttpResponseMessage afterEnable = await _client.SendAsync(HttpMethod.Get, "/api/tenants/to-disable/datasets", admin);

        Assert.Equal(HttpStatusCode.Unauthorized, whileDisabled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterEnable.StatusCode);
    }

    [Fact]
    public async Task Grants_UseAllowedThenRevokedOrExpired_AuditedAndDeniedAtOnce()
    {
        // Arrange: an owner's dataset, and a platform instance that acts for the grantee
        (string ownerKey, _) = await _client.CreateTenantAsync("grant-owner");
        (string granteeKey, _) = await _client.CreateTenantAsync("grant-user");
        await _client.UploadAsync(ownerKey, "grant-owner", "shared", "s.csv", TestData.GeneratedNumeric(20));
        await _client.WaitForRunsAsync(ownerKey, "grant-owner", "shared");
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AccessPolicy policy = platform.GetRequiredService<AccessPolicy>();

        // Act + Assert: no grant → denied
        await Assert.ThrowsAsync<LeptonException>(() => policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Train));

        // a grant for training allows training, not evaluation
        JsonNode grant = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/grant-owner/datasets/shared/grants", ownerKey,
            new { grantee = "grant-user", purposes = new[] { "train" } }, HttpStatusCode.Created);
        Grant? used = await policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Train);
        Assert.Equal(grant["grantId"]!.GetValue<string>(), used!.GrantId);
        await Assert.ThrowsAsync<LeptonException>(() => policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Evaluate));

        // revocation takes effect at once
        await _client.JsonAsync(HttpMethod.Delete, $"/api/tenants/grant-owner/datasets/shared/grants/{grant["grantId"]}", ownerKey);
        await Assert.ThrowsAsync<LeptonException>(() => policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Train));

        // expiry too
        await _client.JsonAsync(HttpMethod.Post, "/api/tenants/grant-owner/datasets/shared/grants", ownerKey,
            new { grantee = "grant-user", purposes = new[] { "evaluate" }, expiresAt = DateTimeOffset.UtcNow.AddSeconds(2) }, HttpStatusCode.Created);
        Assert.NotNull(await policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Evaluate));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await Assert.ThrowsAsync<LeptonException>(() => policy.AuthorizeDataUseAsync("grant-user", "grant-owner", "shared", Purposes.Evaluate));

        // both audit logs recorded every decision, and the chains verify
        JsonNode ownerAudit = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/grant-owner/audit?max=500", ownerKey);
        string[] uses = ownerAudit["entries"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "data.use")
            .Select(e => $"{e!["purpose"]}:{e["outcome"]!.GetValue<string>().Split(' ')[0]}").ToArray();
        Assert.Equal(["train:denied", "train:allowed", "evaluate:denied", "train:denied", "evaluate:allowed", "evaluate:denied"], uses);
        Assert.Contains(ownerAudit["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "grant.revoked");
        JsonNode granteeAudit = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/grant-user/audit?max=500", granteeKey);
        Assert.Equal(6, granteeAudit["entries"]!.AsArray().Count(e => e!["action"]!.GetValue<string>() == "data.use"));
        Assert.True((await _client.JsonAsync(HttpMethod.Get, "/api/tenants/grant-owner/audit/verify", ownerKey))["valid"]!.GetValue<bool>());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Audit_FiftyConcurrentAppendsFromTwoInstances_FormOneValidChain()
    {
        (string key, _) = await _client.CreateTenantAsync("audit-race");
        await using ServiceProvider first = fixture.Host.CoreServices();
        await using ServiceProvider second = fixture.Host.CoreServices();
        AuditLog[] logs = [first.GetRequiredService<AuditLog>(), second.GetRequiredService<AuditLog>()];

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => logs[i % 2].AppendAsync("audit-race", "test", "race.append", $"item/{i}", "ok")));
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-race/audit/verify", key);
        JsonNode page = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-race/audit?max=500", key);

        JsonArray entries = page["entries"]!.AsArray();
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
        Assert.Equal(50, entries.Count(e => e!["action"]!.GetValue<string>() == "race.append"));
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => (long)i), entries.Select(e => e!["seq"]!.GetValue<long>()));
        Assert.Equal(50, entries.Where(e => e!["action"]!.GetValue<string>() == "race.append").Select(e => e!["resource"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Audit_TrainingRequestWithThousandsOfReferences_RefusedAndTheChainKeepsGrowing()
    {
        // Arrange
        (string key, _) = await _client.CreateTenantAsync("audit-huge");
        string[] references = Enumerable.Range(1, 1700).Select(i => $"sales@{i}").ToArray();

        // Act
        using HttpResponseMessage refused = await _client.SendAsync(HttpMethod.Post, "/api/tenants/audit-huge/models", key,
            new { name = "churn", datasets = references, label = "y" });
        JsonNode issued = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/audit-huge/keys", key, new { roles = new[] { Roles.Consumer } }, HttpStatusCode.Created);
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-huge/audit/verify", key);

        // Assert: a 400 before anything is written, and later changes still get their entries
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotNull(issued["apiKey"]);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
        JsonNode audit = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-huge/audit", key);
        Assert.Contains(audit["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == AuditActions.KeyIssued);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Audit_StepRetriedAfterItsEntry_WritesTheEntryOnce()
    {
        // Arrange: a step that commits a change and records it with an idempotency key (run and action)
        (string key, _) = await _client.CreateTenantAsync("audit-retry");
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();

        // Act: the step runs again (a retry after a crash), and a later entry follows
        AuditEntry first = await log.AppendAsync("audit-retry", "system:run-1", AuditActions.DatasetPublished, "audit-retry/datasets/d/v1", "10 rows", idempotencyKey: "run-1:published");
        AuditEntry again = await log.AppendAsync("audit-retry", "system:run-1", AuditActions.DatasetPublished, "audit-retry/datasets/d/v1", "10 rows", idempotencyKey: "run-1:published");
        AuditEntry next = await log.AppendAsync("audit-retry", "test", "test.entry", "item", "ok");
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-retry/audit/verify", key);

        // Assert
        Assert.Equal(first.Seq, again.Seq);
        Assert.Equal(first.Seq + 1, next.Seq);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task KeyIssue_AuditAppendFailsAfterTheCommit_OutboxSweepAppendsTheEntryOnce()
    {
        // Arrange: an instance whose tables answer but whose audit log (platform blobs) does not, and a healthy one
        const string tenant = "audit-outbox";
        (string key, _) = await _client.CreateTenantAsync(tenant);
        (_, string table, IReadOnlyDictionary<string, string> accountKeys) = fixture.Host.Storage();
        await using ServiceProvider broken = fixture.Host.CoreServices(new Dictionary<string, string?>
        {
            ["Lepton:Storage:PlatformConnection"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={accountKeys["devstoreaccount1"]};" +
                $"BlobEndpoint=http://127.0.0.1:{DevHostProcess.FreePort()}/devstoreaccount1;TableEndpoint={table}/devstoreaccount1;",
            ["Lepton:Storage:MaxRetries"] = "0",
        });
        await using ServiceProvider healthy = fixture.Host.CoreServices();

        // Act: the key's row commits and its entry cannot be appended (as if the instance died there); then two sweeps
        (ApiKeyRecord issued, _) = await broken.GetRequiredService<ApiKeyStore>().IssueAsync(tenant, [Roles.Consumer], null, "test");
        int entriesBefore = await KeyIssuedEntriesAsync(tenant, key, issued.KeyId);
        AuditOutbox outbox = healthy.GetRequiredService<AuditOutbox>();
        await outbox.DeliverPendingAsync(TimeSpan.FromSeconds(-5));
        await outbox.DeliverPendingAsync(TimeSpan.FromSeconds(-5));

        // Assert: the key exists, its entry was owed and is now in the chain exactly once, and no promise is left
        Assert.Equal(0, entriesBefore);
        Assert.Equal(1, await KeyIssuedEntriesAsync(tenant, key, issued.KeyId));
        TableClient keys = healthy.GetRequiredService<Lepton.Storage.StorageClients>().PlatformTable("apikeys");
        string[] rows = await keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {issued.KeyId}")).Select(r => r.RowKey).ToArrayAsync();
        Assert.Equal(["key"], rows);
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit/verify", key);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
    }

    private async Task<int> KeyIssuedEntriesAsync(string tenant, string key, string keyId)
    {
        JsonNode entries = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit?max=500", key);
        return entries["entries"]!.AsArray().Count(e =>
            e!["action"]!.GetValue<string>() == AuditActions.KeyIssued && e["resource"]!.GetValue<string>().EndsWith("/keys/" + keyId, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Audit_LogBeyondOneSegment_RollsOverAndKeepsOneChain()
    {
        // Arrange: segments of 4 entries (the service allows 50,000 blocks per append blob; the log rolls over before that)
        (string key, _) = await _client.CreateTenantAsync("audit-rollover");
        await using ServiceProvider platform = fixture.Host.CoreServices(new Dictionary<string, string?> { ["Lepton:Audit:MaxEntriesPerSegment"] = "4" });
        AuditLog log = platform.GetRequiredService<AuditLog>();

        // Act
        for (int i = 0; i < 10; i++)
        {
            await log.AppendAsync("audit-rollover", "test", "test.entry", $"item/{i}", "ok");
        }

        await _client.JsonAsync(HttpMethod.Post, "/api/tenants/audit-rollover/audit/heads", key, new { }, HttpStatusCode.Created);
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-rollover/audit/verify", key);
        JsonNode entries = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-rollover/audit?max=500", key);

        // Assert: three segments, one unbroken chain read across them, by this instance and by the host
        var container = platform.GetRequiredService<Lepton.Storage.StorageClients>().PlatformBlobs.GetBlobContainerClient(AuditLog.Container);
        Assert.True((await container.GetBlobClient(AuditLog.SegmentName("audit-rollover", 2)).ExistsAsync()).Value);
        Assert.True(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
        long[] seqs = entries["entries"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
        Assert.Equal(Enumerable.Range(1, seqs.Length).Select(i => (long)i), seqs);
        Assert.True(seqs.Length >= 11);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Audit_EntryLongerThanTheTailWindow_NextAppendsChainOntoIt()
    {
        // Arrange: a log whose last entry is 100 KB (as an unbounded writer once produced)
        string tenant = "audit-long-tail";
        await _client.CreateTenantAsync(tenant);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();
        AuditEntry last = (await log.ReadAsync(tenant, 1, 1000)).Entries[^1];
        var huge = new AuditEntry(last.Seq + 1, DateTimeOffset.UtcNow, "test", "test.huge", "item/huge", null, new string('x', 100_000), last.Hash, "");
        huge = huge with { Hash = AuditLog.ComputeHash(huge) };
        var blob = platform.GetRequiredService<Lepton.Storage.StorageClients>().PlatformBlobs
            .GetBlobContainerClient(AuditLog.Container).GetAppendBlobClient(AuditLog.BlobName(tenant));
        using (var line = new MemoryStream(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(huge, Lepton.Storage.LeptonJson.Options) + "\n")))
        {
            await blob.AppendBlockAsync(line);
        }

        // Act
        AuditEntry next = await log.AppendAsync(tenant, "test", "test.after", "item/after", new string('y', 50_000));
        AuditVerification verification = await log.VerifyAsync(tenant);

        // Assert: the chain continues from the long entry, and what a caller puts in a field is bounded
        Assert.Equal((huge.Seq + 1, huge.Hash), (next.Seq, next.PrevHash));
        Assert.True(next.Outcome.Length <= AuditLog.MaxOutcomeLength);
        Assert.True(verification.Valid, verification.Problem);
    }

    [Fact]
    public async Task AuditRead_WhileEntriesAreAppended_ReadsAConsistentPrefix()
    {
        // Arrange: a tenant's log being appended to (as background work does while a partner reads it)
        string tenant = "audit-concurrent-read";
        await _client.CreateTenantAsync(tenant);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        Task appending = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await log.AppendAsync(tenant, "test", "test.entry", $"item/{i}", "ok");
            }
        });

        // Act: read and verify over and over while it grows
        var reads = new List<(int Entries, bool Valid)>();
        while (!stop.IsCancellationRequested)
        {
            AuditPage page = await log.ReadAsync(tenant, 1, 100_000);
            AuditVerification verification = await log.VerifyAsync(tenant);
            reads.Add((page.Entries.Count, verification.Valid));
        }

        await appending;

        // Assert: no read failed; each saw whole entries in order, and the log verified every time
        Assert.True(reads.Count > 10, $"only {reads.Count} reads");
        Assert.All(reads, r => Assert.True(r.Valid));
        Assert.True(reads[^1].Entries > reads[0].Entries);
    }

    [Theory]
    [Trait("Category", "Fault")]
    [InlineData("rewrite")]
    [InlineData("truncate")]
    public async Task Audit_ChainRewrittenOrCutAfterASignedHead_VerifyFails(string tampering)
    {
        // Arrange: 10 entries and a signed tree head over them
        string tenant = $"audit-head-{tampering}";
        (string key, _) = await _client.CreateTenantAsync(tenant);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();
        for (int i = 0; i < 10; i++)
        {
            await log.AppendAsync(tenant, "test", "test.entry", $"item/{i}", "ok");
        }

        JsonNode head = await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/audit/heads", key, new { }, HttpStatusCode.Created);

        // Act: an operator with write access rewrites entry 5 and recomputes every later hash, or cuts off the last 3
        BlobClient blob = platform.GetRequiredService<Lepton.Storage.StorageClients>().PlatformBlobs
            .GetBlobContainerClient(AuditLog.Container).GetBlobClient(AuditLog.BlobName(tenant));
        List<AuditEntry> entries = (await log.ReadAsync(tenant, 1, 1000)).Entries.ToList();
        if (tampering == "rewrite")
        {
            for (int i = 4; i < entries.Count; i++)
            {
                AuditEntry changed = entries[i] with { Outcome = i == 4 ? "denied" : entries[i].Outcome, PrevHash = entries[i - 1].Hash, Hash = "" };
                entries[i] = changed with { Hash = AuditLog.ComputeHash(changed) };
            }
        }
        else
        {
            entries.RemoveRange(entries.Count - 3, 3);
        }

        await blob.DeleteAsync();
        await blob.UploadAsync(BinaryData.FromString(string.Concat(entries.Select(e => System.Text.Json.JsonSerializer.Serialize(e, Lepton.Storage.LeptonJson.Options) + "\n"))));
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit/verify", key);

        // Assert: the hash chain alone would pass; the signed head does not
        Assert.True((await log.VerifyAsync(tenant)).Valid);
        Assert.False(verification["valid"]!.GetValue<bool>(), verification.ToJsonString());
        Assert.Contains(tampering == "rewrite" ? "rewritten" : "cut off", verification["problem"]!.GetValue<string>());
        Assert.Equal(head["treeSize"]!.GetValue<long>(), verification["latestSignedSize"]!.GetValue<long>());
    }

    [Fact]
    public async Task Audit_InclusionAndConsistencyProofs_VerifyAgainstSignedHeadsAndPartnersWitnessThem()
    {
        // Arrange: two tenants in an active collaboration; the first one's log gets a head, grows, gets another
        (string key, _) = await _client.CreateTenantAsync("audit-proofs");
        (string partnerKey, _) = await _client.CreateTenantAsync("audit-partner");
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", key,
            new { id = "audit-witness", members = new[] { "audit-proofs", "audit-partner" }, task = new { label = "y" } }, HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations/audit-witness/accept", partnerKey, new { });
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();
        JsonNode first = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/audit-proofs/audit/heads", key, new { }, HttpStatusCode.Created);
        for (int i = 0; i < 5; i++)
        {
            await log.AppendAsync("audit-proofs", "test", "test.entry", $"item/{i}", "ok");
        }

        JsonNode second = await _client.JsonAsync(HttpMethod.Post, "/api/tenants/audit-proofs/audit/heads", key, new { }, HttpStatusCode.Created);
        long size1 = first["treeSize"]!.GetValue<long>(), size2 = second["treeSize"]!.GetValue<long>();

        // Act
        JsonNode inclusion = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/audit-proofs/audit/proofs/inclusion?seq=2&size={size2}", key);
        JsonNode consistency = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/audit-proofs/audit/proofs/consistency?from={size1}&to={size2}", key);
        JsonNode signingKey = await _client.JsonAsync(HttpMethod.Get, "/api/audit/signing-key", null);
        JsonNode partnerAudit = await _client.JsonAsync(HttpMethod.Get, "/api/tenants/audit-partner/audit?max=500", partnerKey);

        // Assert: the proofs check out against the signed roots, with the published key, and the partner holds both heads
        static byte[] Hex(JsonNode? n) => Convert.FromHexString(n!.GetValue<string>());
        byte[] root2 = Hex(second["rootHash"]);
        Assert.True(MerkleTree.VerifyInclusion(Hex(inclusion["leafHash"]), 1, size2, inclusion["auditPath"]!.AsArray().Select(Hex).ToList(), root2));
        Assert.True(MerkleTree.VerifyConsistency(size1, size2, Hex(first["rootHash"]), root2, consistency["proof"]!.AsArray().Select(Hex).ToList()));
        Assert.Equal(signingKey["keyId"]!.GetValue<string>(), second["keyId"]!.GetValue<string>());
        var head = second.Deserialize<SignedTreeHead>(Lepton.Storage.LeptonJson.Options)!;
        Assert.True(AuditSigner.Verify(signingKey["publicKey"]!.GetValue<string>(), head.SignedBytes(), Convert.FromBase64String(head.Signature)));
        string[] witnessed = partnerAudit["entries"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == AuditActions.TreeHeadWitnessed)
            .Select(e => e!["outcome"]!.GetValue<string>()).ToArray();
        Assert.Contains(witnessed, w => w.Contains(second["rootHash"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Contains(witnessed, w => w.Contains(first["rootHash"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Category", "Fault")]
    [InlineData("edit")]
    [InlineData("delete")]
    public async Task Audit_StoredEntryTampered_VerifyNamesThatEntry(string tampering)
    {
        // Arrange: a chain of 10 entries after the tenant's own
        string tenant = $"audit-{tampering}";
        (string key, _) = await _client.CreateTenantAsync(tenant);
        await using ServiceProvider platform = fixture.Host.CoreServices();
        AuditLog log = platform.GetRequiredService<AuditLog>();
        for (int i = 0; i < 10; i++)
        {
            await log.AppendAsync(tenant, "test", "test.entry", $"item/{i}", "ok");
        }

        // Act: rewrite the stored blob with entry 5 edited or removed
        BlobClient blob = platform.GetRequiredService<Lepton.Storage.StorageClients>().PlatformBlobs
            .GetBlobContainerClient(AuditLog.Container).GetBlobClient(AuditLog.BlobName(tenant));
        List<string> lines = (await blob.DownloadContentAsync()).Value.Content.ToString().TrimEnd('\n').Split('\n').ToList();
        if (tampering == "edit")
        {
            lines[4] = lines[4].Replace("\"outcome\":\"ok\"", "\"outcome\":\"denied\"", StringComparison.Ordinal);
        }
        else
        {
            lines.RemoveAt(4);
        }

        await blob.DeleteAsync();
        await blob.UploadAsync(BinaryData.FromString(string.Join("\n", lines) + "\n"));
        JsonNode verification = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{tenant}/audit/verify", key);

        // Assert
        Assert.False(verification["valid"]!.GetValue<bool>());
        Assert.Equal(5, verification["firstBrokenSeq"]!.GetValue<long>());
    }

    [Fact]
    public async Task RateLimit_BurstBeyondLimit_Answers429WithRetryAfter()
    {
        (string key, _) = await _client.CreateTenantAsync("rate-limited");

        HttpResponseMessage? limited = null;
        for (int i = 0; i < DevHostFixture.RateBurst * 3 && limited is null; i++)
        {
            HttpResponseMessage response = await _client.SendAsync(HttpMethod.Get, "/api/tenants/rate-limited/datasets", key);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        limited.Dispose();
    }
}
