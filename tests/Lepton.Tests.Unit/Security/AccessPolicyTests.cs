using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Lepton.Configuration;
using Lepton.Errors;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Tenancy;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Moq;

namespace Lepton.Tests.Unit.Security;

public class AccessPolicyTests
{
    private static Caller Key(string tenant, params string[] roles) => new(false, tenant, roles, "k1");

    [Theory]
    [InlineData(LeptonAction.IssueUploadUrl, Roles.Admin)]
    [InlineData(LeptonAction.IssueUploadUrl, Roles.Contributor)]
    [InlineData(LeptonAction.ReadDatasets, Roles.Consumer)]
    [InlineData(LeptonAction.ReadRuns, Roles.Consumer)]
    public void Authorize_OwnTenantWithRole_Allows(LeptonAction action, string role) =>
        AccessPolicy.Authorize(Key("acme", role), action, "acme");

    [Fact]
    public void Authorize_OtherTenant_IsNotFound()
    {
        var e = Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", Roles.Admin), LeptonAction.ReadDatasets, "globex"));

        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.DoesNotContain("globex", e.Message);
    }

    [Fact]
    public void Authorize_ConsumerUploading_IsForbidden()
    {
        var e = Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", Roles.Consumer), LeptonAction.IssueUploadUrl, "acme"));

        Assert.Equal(ErrorKind.Forbidden, e.Kind);
    }

    [Fact]
    public void Authorize_TenantKeyManagingTenants_IsForbidden() =>
        Assert.Equal(ErrorKind.Forbidden, Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", Roles.Admin), LeptonAction.ManageTenants, null)).Kind);

    [Fact]
    public void Authorize_PlatformAdminReadingTenantData_IsForbidden() =>
        Assert.Equal(ErrorKind.Forbidden, Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Caller.PlatformAdmin, LeptonAction.ReadDatasets, "acme")).Kind);

    [Theory]
    [InlineData(LeptonAction.ManageKeys, Roles.Contributor)]
    [InlineData(LeptonAction.ManageGrants, Roles.Consumer)]
    [InlineData(LeptonAction.ReadAudit, Roles.Contributor)]
    public void Authorize_AdminOnlyActionWithoutAdminRole_IsForbidden(LeptonAction action, string role) =>
        Assert.Equal(ErrorKind.Forbidden, Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", role), action, "acme")).Kind);

    [Fact]
    public void Authorize_PlatformAdminReadingTenant_Allows() =>
        AccessPolicy.Authorize(Caller.PlatformAdmin, LeptonAction.ReadTenant, "acme");

    [Fact]
    public void Authorize_TenantAdminManagingOtherTenant_IsNotFound() =>
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", Roles.Admin), LeptonAction.ManageTenants, "globex")).Kind);

    [Fact]
    public void RolesFor_EveryTenantAction_NamesAtLeastOneRole() =>
        Assert.All(Enum.GetValues<LeptonAction>().Where(a => a != LeptonAction.ManageTenants), a => Assert.NotEmpty(AccessPolicy.RolesFor(a)));

    [Fact]
    public void Authorize_RunOfUnknownTenant_IsNotFound() =>
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<LeptonException>(() => AccessPolicy.Authorize(Key("acme", Roles.Admin), LeptonAction.ReadRuns, null)).Kind);

    /// <summary>A well-formed key the registry does not know (the id is what a lookup reads).</summary>
    private static string MadeUpKey(int i) => $"lep_{i:D16}_not-a-real-secret";

    /// <summary>A policy over a key registry that knows no key and counts its reads; 3 failed attempts per address.</summary>
    private sealed class EmptyRegistry : IDisposable
    {
        private int _reads;

        /// <param name="answer">When the registry answers; at once by default.</param>
        public EmptyRegistry(Task? answer = null)
        {
            var notFound = new Mock<NullableResponse<TableEntity>>();
            notFound.SetupGet(r => r.HasValue).Returns(false);
            var table = new Mock<TableClient>();
            table.Setup(t => t.GetEntityIfExistsAsync<TableEntity>(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IEnumerable<string>>(), It.IsAny<CancellationToken>()))
                .Returns(async () =>
                {
                    Interlocked.Increment(ref _reads);
                    await (answer ?? Task.CompletedTask);
                    return notFound.Object;
                });
            var service = new Mock<TableServiceClient>();
            service.Setup(s => s.GetTableClient(It.IsAny<string>())).Returns(table.Object);
            var tables = new Mock<IAzureClientFactory<TableServiceClient>>();
            tables.Setup(f => f.CreateClient(StorageClients.Platform)).Returns(service.Object);
            var storage = new StorageClients(Options.Create(new StorageOptions()), Mock.Of<IAzureClientFactory<BlobServiceClient>>(), tables.Object,
                Mock.Of<IAzureClientFactory<QueueServiceClient>>());
            Callers = new CallerCache(Options.Create(new SecurityOptions()), TimeProvider.System, new MemoryCache(new MemoryCacheOptions()));
            Policy = new AccessPolicy(new ApiKeyStore(storage, null!, Callers, TimeProvider.System), null!, null!, null!, null!, Callers,
                Options.Create(new LeptonOptions { AdminKey = "admin-key-0123456789" }), Options.Create(new RateLimitOptions { FailedBurst = 3, FailedPerSecond = 1 }),
                TimeProvider.System);
        }

        public AccessPolicy Policy { get; }

        public CallerCache Callers { get; }

        public int Reads => Volatile.Read(ref _reads);

        public void Dispose() => Policy.Dispose();
    }

    [Fact]
    public async Task AuthenticateAsync_MadeUpKeysPastTheFailureBudget_429WithoutReadingTheRegistry()
    {
        // Arrange
        using var registry = new EmptyRegistry();

        // Act: five made-up keys from one address, then one from another
        var refusals = new List<LeptonException>();
        for (int i = 0; i < 5; i++)
        {
            refusals.Add(await Assert.ThrowsAsync<LeptonException>(() => registry.Policy.AuthenticateAsync(MadeUpKey(i), client: "203.0.113.7")));
        }

        int readsFromThere = registry.Reads;
        LeptonException elsewhere = await Assert.ThrowsAsync<LeptonException>(() => registry.Policy.AuthenticateAsync(MadeUpKey(9), client: "198.51.100.1"));

        // Assert: past the budget the address costs no registry read; the other address is read and answered 401
        Assert.Equal([ErrorKind.Unauthorized, ErrorKind.Unauthorized, ErrorKind.Unauthorized, ErrorKind.TooManyRequests, ErrorKind.TooManyRequests],
            refusals.Select(e => e.Kind));
        Assert.StartsWith("Too many requests from this address had a missing, unknown, revoked or expired API key", refusals[^1].Message);
        Assert.Equal(3, readsFromThere);
        Assert.Equal((ErrorKind.Unauthorized, 4), (elsewhere.Kind, registry.Reads));
    }

    [Fact]
    public async Task AuthenticateAsync_ManyMadeUpKeysAtOnce_NoMoreRegistryReadsThanTheBudgetHasFailuresLeft()
    {
        // Arrange: a registry that answers only when the test says so
        var answer = new TaskCompletionSource();
        using var registry = new EmptyRegistry(answer.Task);

        // Act: ten made-up keys from one address at once, all before the first read is answered
        Task<Caller>[] attempts = Enumerable.Range(0, 10).Select(i => registry.Policy.AuthenticateAsync(MadeUpKey(i), client: "203.0.113.7")).ToArray();
        int readsStarted = registry.Reads;
        answer.SetResult();
        ErrorKind[] kinds = await Task.WhenAll(attempts.Select(async a => (await Assert.ThrowsAsync<LeptonException>(() => a)).Kind));

        // Assert: three reads (the budget), seven refusals without one, and the three failures spend the budget
        Assert.Equal(3, readsStarted);
        Assert.Equal((3, 7), (kinds.Count(k => k == ErrorKind.Unauthorized), kinds.Count(k => k == ErrorKind.TooManyRequests)));
        Assert.Equal(ErrorKind.TooManyRequests, (await Assert.ThrowsAsync<LeptonException>(() => registry.Policy.AuthenticateAsync(MadeUpKey(10), client: "203.0.113.7"))).Kind);
        Assert.Equal(3, registry.Reads);
    }

    [Fact]
    public async Task AuthenticateAsync_KeyValidatedBeforeFromAnAddressPastItsBudget_StillServes()
    {
        // Arrange: a key this instance validated a moment ago, then an address that spends its budget on made-up keys
        using var registry = new EmptyRegistry();
        const string valid = "lep_0123456789abcdef_a-real-secret";
        var known = new Caller(false, "acme", [Roles.Consumer], "0123456789abcdef");
        await registry.Callers.GetAsync(ApiKeyStore.Hash(valid), () => Task.FromResult(known), CancellationToken.None);
        for (int i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<LeptonException>(() => registry.Policy.AuthenticateAsync(MadeUpKey(i), client: "203.0.113.7"));
        }

        // Act
        Caller caller = await registry.Policy.AuthenticateAsync(valid, client: "203.0.113.7");

        // Assert
        Assert.Equal((known, 3), (caller, registry.Reads));
    }
}

public class TenantIdsTests
{
    [Theory]
    [InlineData("acme")]
    [InlineData("hospital-a")]
    [InlineData("a1b")]
    public void IsValid_GoodId_True(string id) => Assert.True(TenantIds.IsValid(id));

    [Theory]
    [InlineData("ab")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("Acme")]
    [InlineData("admin")]
    [InlineData("a_very_long_tenant_name_indeed")]
    public void IsValid_BadOrReservedId_False(string id) => Assert.False(TenantIds.IsValid(id));

    [Fact]
    public async Task AuthenticateAsync_ManyFailuresFromOneAddress_429ThereAnd401Elsewhere()
    {
        // Arrange: a budget of 3 failed attempts per address (a missing key fails before any lookup)
        using var policy = new AccessPolicy(null!, null!, null!, null!, null!, null!,
            Microsoft.Extensions.Options.Options.Create(new Lepton.Configuration.LeptonOptions { AdminKey = "admin-key-0123456789" }),
            Microsoft.Extensions.Options.Options.Create(new RateLimitOptions { FailedBurst = 3, FailedPerSecond = 1 }), TimeProvider.System);

        // Act
        var kinds = new List<ErrorKind>();
        for (int i = 0; i < 4; i++)
        {
            kinds.Add((await Assert.ThrowsAsync<LeptonException>(() => policy.AuthenticateAsync(null, client: "203.0.113.7"))).Kind);
        }

        LeptonException elsewhere = await Assert.ThrowsAsync<LeptonException>(() => policy.AuthenticateAsync(null, client: "198.51.100.1"));

        // Assert
        Assert.Equal([ErrorKind.Unauthorized, ErrorKind.Unauthorized, ErrorKind.Unauthorized, ErrorKind.TooManyRequests], kinds);
        Assert.Equal(ErrorKind.Unauthorized, elsewhere.Kind);
    }

    [Fact]
    public async Task AuthenticateAsync_ConfiguredAdminKeyTwice_PlatformAdminBothTimes()
    {
        // Arrange: no key store at all — the admin key is recognized before any lookup
        using var policy = new AccessPolicy(null!, null!, null!, null!, null!, null!,
            Microsoft.Extensions.Options.Options.Create(new Lepton.Configuration.LeptonOptions { AdminKey = "admin-key-0123456789" }),
            Microsoft.Extensions.Options.Options.Create(new RateLimitOptions()), TimeProvider.System);

        // Act: the second call compares against the digest kept from the first
        Caller first = await policy.AuthenticateAsync("admin-key-0123456789");
        Caller second = await policy.AuthenticateAsync("admin-key-0123456789");

        // Assert
        Assert.True(first.IsPlatformAdmin);
        Assert.True(second.IsPlatformAdmin);
    }
}
