using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Lepton.Audit;
using Lepton.Configuration;
using Lepton.Errors;
using Lepton.Tenancy;
using Microsoft.Extensions.Options;

namespace Lepton.Security;

/// <summary>Things a caller can ask to do; <see cref="AccessPolicy"/> maps each to the roles that allow it.</summary>
public enum LeptonAction
{
    ManageTenants,
    ReadTenant,
    ManageKeys,
    ManageGrants,
    ReadAudit,
    IssueUploadUrl,
    ReadDatasets,
    ReadRuns,
    Train,
    ReadModels,
    Predict,
}

/// <summary>Declares the action an HTTP function performs; the host authorizes it before the function runs.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresActionAttribute(LeptonAction action) : Attribute
{
    public LeptonAction Action { get; } = action;
}

/// <summary>Who is calling: the platform administrator, or a key of one tenant with its roles.</summary>
public sealed record Caller(bool IsPlatformAdmin, string? TenantId, IReadOnlyList<string> Roles, string? KeyId)
{
    public static Caller PlatformAdmin { get; } = new(true, null, [], null);

    /// <summary>How the caller appears in the audit log.</summary>
    public string Actor => IsPlatformAdmin ? "platform-admin" : $"{TenantId}/key:{KeyId}";
}

/// <summary>Per-key request rate ("Lepton:RateLimit").</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Lepton:RateLimit";

    public int PermitsPerSecond { get; set; } = 50;

    public int Burst { get; set; } = 200;
}

/// <summary>
/// The single authorization policy. HTTP functions declare their action; the host calls <see cref="AuthorizeRequestAsync"/>
/// before the function runs, and activities call <see cref="AuthorizeDataUseAsync"/> before touching another tenant's data.
/// Another tenant's resource answers 404 whether it exists or not, so existence never leaks; a known resource with the
/// wrong role answers 403; no, bad, revoked or expired key 401; too many requests 429.
/// </summary>
public sealed class AccessPolicy : IDisposable
{
    public const string ApiKeyHeader = "x-api-key";

    private static readonly Dictionary<LeptonAction, string[]> AllowedRoles = new()
    {
        [LeptonAction.ReadTenant] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.ManageKeys] = [Roles.Admin],
        [LeptonAction.ManageGrants] = [Roles.Admin],
        [LeptonAction.ReadAudit] = [Roles.Admin],
        [LeptonAction.IssueUploadUrl] = [Roles.Admin, Roles.Contributor],
        [LeptonAction.ReadDatasets] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.ReadRuns] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.Train] = [Roles.Admin, Roles.Contributor],
        [LeptonAction.ReadModels] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.Predict] = [Roles.Consumer, Roles.Contributor, Roles.Admin],
    };

    private readonly ApiKeyStore _keys;
    private readonly TenantRegistry _tenants;
    private readonly GrantStore _grants;
    private readonly AuditLog _audit;
    private readonly IOptions<LeptonOptions> _options;
    private readonly PartitionedRateLimiter<string> _rateLimiter;
    private readonly CallerCache _callers;

    public AccessPolicy(
        ApiKeyStore keys, TenantRegistry tenants, GrantStore grants, AuditLog audit, CallerCache callers, IOptions<LeptonOptions> options, IOptions<RateLimitOptions> rateLimit)
    {
        (_keys, _tenants, _grants, _audit, _callers, _options) = (keys, tenants, grants, audit, callers, options);
        RateLimitOptions limit = rateLimit.Value;
        _rateLimiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = limit.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>The roles that may perform an action (for documentation and the authorization tests).</summary>
    public static IReadOnlyList<string> RolesFor(LeptonAction action) => AllowedRoles.TryGetValue(action, out string[]? roles) ? roles : [];

    /// <summary>
    /// Authorizes an HTTP request for a declared action. With a tenant in the route, the caller must act for that tenant;
    /// without one (e.g. runs), the function finishes the check with <see cref="Authorize"/> once it knows the owner.
    /// </summary>
    public async Task<Caller> AuthorizeRequestAsync(string? apiKey, LeptonAction action, string? routeTenant, CancellationToken ct = default)
    {
        Caller caller = await AuthenticateAsync(apiKey, ct);
        if (routeTenant is not null || action == LeptonAction.ManageTenants)
        {
            Authorize(caller, action, routeTenant);
        }

        return caller;
    }

    public async Task<Caller> AuthenticateAsync(string? apiKey, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(apiKey))
        {
            throw LeptonException.Unauthorized($"Send an API key in the '{ApiKeyHeader}' header.");
        }

        if (IsAdminKey(apiKey))
        {
            Throttle("platform-admin");
            return Caller.PlatformAdmin;
        }

        string keyHash = ApiKeyStore.Hash(apiKey);
        if (_callers.TryGet(keyHash, out Caller cached))
        {
            Throttle(cached.KeyId!);
            return cached;
        }

        ApiKeyRecord? record = await _keys.FindAsync(apiKey, keyHash, ct);
        if (record is null || !record.IsUsableAt(DateTimeOffset.UtcNow))
        {
            throw LeptonException.Unauthorized("The API key is not valid (unknown, revoked or expired).");
        }

        Tenant? tenant = await _tenants.FindAsync(record.TenantId, ct);
        if (tenant is null || tenant.Disabled)
        {
            throw LeptonException.Unauthorized("The API key is not valid (unknown, revoked or expired).");
        }

        Throttle(record.KeyId);
        await _keys.TouchAsync(record, ct);
        var caller = new Caller(false, record.TenantId, record.Roles, record.KeyId);
        _callers.Set(keyHash, caller);
        return caller;
    }

    public static void Authorize(Caller caller, LeptonAction action, string? tenantId)
    {
        if (action == LeptonAction.ManageTenants)
        {
            if (!caller.IsPlatformAdmin)
            {
                throw caller.TenantId == tenantId || tenantId is null
                    ? LeptonException.Forbidden("Only the platform administrator manages tenants.")
                    : LeptonException.NotFound("No such resource.");
            }

            return;
        }

        if (caller.IsPlatformAdmin)
        {
            if (action == LeptonAction.ReadTenant)
            {
                return;
            }

            throw LeptonException.Forbidden("The platform administrator key only manages tenants; use a key of the tenant.");
        }

        if (tenantId is null || !string.Equals(caller.TenantId, tenantId, StringComparison.Ordinal))
        {
            throw LeptonException.NotFound("No such resource.");
        }

        if (!RolesFor(action).Any(caller.Roles.Contains))
        {
            throw LeptonException.Forbidden($"This key lacks a role for this action (needs one of: {string.Join(", ", RolesFor(action))}).");
        }
    }

    /// <summary>
    /// Whether a tenant may use a dataset (its own, or another's under an active grant for the purpose). Every cross-tenant
    /// decision, allowed or denied, is written to the audit logs of both tenants.
    /// </summary>
    public async Task<Grant?> AuthorizeDataUseAsync(string actingTenant, string owner, string dataset, string purpose, CancellationToken ct = default)
    {
        if (actingTenant == owner)
        {
            return null;
        }

        Grant? grant = await _grants.FindActiveAsync(owner, dataset, actingTenant, purpose, ct);
        string outcome = grant is null ? "denied" : $"allowed by {grant.GrantId}";
        string resource = $"{owner}/datasets/{dataset}";
        await _audit.AppendAsync(owner, $"tenant:{actingTenant}", "data.use", resource, outcome, purpose, ct);
        await _audit.AppendAsync(actingTenant, $"tenant:{actingTenant}", "data.use", resource, outcome, purpose, ct);
        return grant ?? throw LeptonException.Forbidden($"No active grant lets '{actingTenant}' use this dataset for '{purpose}'.");
    }

    public void Dispose() => _rateLimiter.Dispose();

    private void Throttle(string partition)
    {
        using RateLimitLease lease = _rateLimiter.AttemptAcquire(partition);
        if (!lease.IsAcquired)
        {
            int seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 1;
            throw LeptonException.TooManyRequests(Math.Max(1, seconds));
        }
    }

    private bool IsAdminKey(string presented)
    {
        string configured = _options.Value.AdminKey;
        if (configured.Length == 0)
        {
            return false;
        }

        // Comparing hashes keeps the comparison constant-time whatever the lengths.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }
}
