using Lepton.Errors;
using Lepton.Security;
using Lepton.Tenancy;

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
