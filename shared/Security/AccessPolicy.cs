using System.ComponentModel.DataAnnotations;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Lepton.Audit;
using Lepton.Collaborations;
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

    /// <summary>Propose a collaboration in the caller's own tenant's name.</summary>
    ProposeCollaboration,

    /// <summary>Read collaborations the caller's tenant is a member of: agreement, data report, contributions, ledger.</summary>
    ReadCollaboration,

    /// <summary>Accept, change the terms of, leave or settle a collaboration.</summary>
    ManageCollaboration,
}

/// <summary>
/// A platform activity was refused a member's data (grant revoked or expired, member left, collaboration no longer
/// active). Orchestrations fail the run with this message rather than treat it as a failed candidate.
/// </summary>
public sealed class DataUseDeniedException(string message) : Exception(message);

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

    [Range(1, int.MaxValue)]
    public int PermitsPerSecond { get; set; } = 50;

    [Range(1, int.MaxValue)]
    public int Burst { get; set; } = 200;

    /// <summary>
    /// Requests with a missing, unknown, revoked or expired key, per client address: beyond this budget they get 429
    /// instead of 401, so guessing keys (and the registry lookups it costs) is throttled too.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int FailedPerSecond { get; set; } = 10;

    [Range(1, int.MaxValue)]
    public int FailedBurst { get; set; } = 100;
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
        [LeptonAction.ProposeCollaboration] = [Roles.Admin],
        [LeptonAction.ReadCollaboration] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.ManageCollaboration] = [Roles.Admin],
    };

    /// <summary>Actions whose route names neither tenant nor collaboration: they act for the caller's own tenant.</summary>
    private static readonly HashSet<LeptonAction> OwnTenantActions = [LeptonAction.ProposeCollaboration, LeptonAction.ReadCollaboration];

    private readonly ApiKeyStore _keys;
    private readonly TenantRegistry _tenants;
    private readonly GrantStore _grants;
    private readonly AuditLog _audit;
    private readonly IOptions<LeptonOptions> _options;
    private readonly PartitionedRateLimiter<string> _rateLimiter;
    private readonly PartitionedRateLimiter<string> _failures;

    /// <summary>Registry reads under way for keys not validated within the cache lifetime, per client address.</summary>
    private readonly ConcurrentDictionary<string, int> _lookups = new(StringComparer.Ordinal);

    private const string FailedAttempts = "Too many requests from this address had a missing, unknown, revoked or expired API key";

    private readonly CallerCache _callers;
    private readonly CollaborationStore _collaborations;
    private readonly TimeProvider _time;
    private byte[]? _adminKeyDigest;

    public AccessPolicy(
        ApiKeyStore keys, TenantRegistry tenants, GrantStore grants, CollaborationStore collaborations, AuditLog audit, CallerCache callers,
        IOptions<LeptonOptions> options, IOptions<RateLimitOptions> rateLimit, TimeProvider time)
    {
        (_keys, _tenants, _grants, _collaborations, _audit, _callers, _options, _time) = (keys, tenants, grants, collaborations, audit, callers, options, time);
        RateLimitOptions limit = rateLimit.Value;
        _rateLimiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = limit.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _failures = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.FailedBurst,
            TokensPerPeriod = limit.FailedPerSecond,
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
    public async Task<Caller> AuthorizeRequestAsync(string? apiKey, LeptonAction action, string? routeTenant, CancellationToken ct = default, string? client = null)
    {
        Caller caller = await AuthenticateAsync(apiKey, ct, client);
        if (routeTenant is not null || action == LeptonAction.ManageTenants)
        {
            Authorize(caller, action, routeTenant);
        }
        else if (OwnTenantActions.Contains(action))
        {
            Authorize(caller, action, caller.TenantId);
        }

        return caller;
    }

    /// <summary>
    /// Authorizes a request on a collaboration's route: the caller's tenant must be a current member (404 otherwise,
    /// whether the collaboration exists or not) and the key must have a role for the action (403).
    /// </summary>
    public async Task<Caller> AuthorizeCollaborationRequestAsync(string? apiKey, LeptonAction action, string collaboration, CancellationToken ct = default, string? client = null)
    {
        Caller caller = await AuthenticateAsync(apiKey, ct, client);
        if (caller.IsPlatformAdmin)
        {
            throw LeptonException.Forbidden("The platform administrator key only manages tenants; use a key of a member tenant.");
        }

        await _collaborations.GetForMemberAsync(collaboration, caller.TenantId, ct);
        Authorize(caller, action, caller.TenantId);
        return caller;
    }

    /// <summary>
    /// Authorizes access to something loaded before its owner was known (a run): a tenant's belongs to that tenant; a
    /// collaboration's to its current members. Anything else answers 404, as if it did not exist.
    /// </summary>
    public async Task AuthorizeOwnedAsync(Caller caller, LeptonAction action, string? tenant, string? collaboration, CancellationToken ct = default)
    {
        if (collaboration is not null && !caller.IsPlatformAdmin)
        {
            await _collaborations.GetForMemberAsync(collaboration, caller.TenantId, ct);
            tenant = caller.TenantId;
        }

        Authorize(caller, action, tenant);
    }

    /// <summary>
    /// Cancelling a run: whoever may not see it gets 404; a collaboration member who may see it but did not start it gets
    /// 403; the starting tenant's key needs a role that may train.
    /// </summary>
    public async Task AuthorizeRunCancellationAsync(Caller caller, string? tenant, string? collaboration, CancellationToken ct = default)
    {
        await AuthorizeOwnedAsync(caller, LeptonAction.ReadRuns, tenant, collaboration, ct);
        if (!string.Equals(caller.TenantId, tenant, StringComparison.Ordinal))
        {
            throw LeptonException.Forbidden("Only the tenant that started the run can cancel it.");
        }

        Authorize(caller, LeptonAction.Train, tenant);
    }

    /// <summary>
    /// Whether a platform activity working for a collaboration may use a member's dataset for a purpose now: the
    /// collaboration must be active, the owner still a member, and a grant to the collaboration must allow the purpose.
    /// Checked by the activity that reads the data, every time it reads, and written to the owner's audit chain either way.
    /// </summary>
    public async Task<Grant> AuthorizeCollaborationDataUseAsync(string collaboration, string runId, string owner, string dataset, string purpose, CancellationToken ct = default)
    {
        Collaborations.Collaboration? agreement = await _collaborations.FindAsync(collaboration, ct);
        string? problem = agreement is null ? "the collaboration does not exist"
            : !agreement.IsMember(owner) ? $"'{owner}' is no longer a member"
            : agreement.State != CollaborationStates.Active ? $"the collaboration is {agreement.State}, not active"
            : null;
        Grant? grant = problem is null ? await _grants.FindActiveForCollaborationAsync(owner, dataset, collaboration, purpose, ct) : null;
        problem ??= grant is null ? $"no grant of '{owner}' to the collaboration allows '{purpose}' on dataset '{dataset}' (revoked, expired or never given)" : null;
        await _audit.AppendAsync(owner, $"collaboration:{collaboration}/run:{runId}", AuditActions.DataUse, $"{owner}/datasets/{dataset}",
            problem is null ? $"allowed by {grant!.GrantId}" : $"denied: {problem}", purpose, ct);
        return grant ?? throw new DataUseDeniedException($"Member '{owner}' data '{dataset}' may not be used for '{purpose}': {problem}.");
    }

    /// <param name="client">The caller's address; failed attempts from it are counted against <see cref="RateLimitOptions.FailedBurst"/>.</param>
    public async Task<Caller> AuthenticateAsync(string? apiKey, CancellationToken ct = default, string? client = null)
    {
        try
        {
            return await AuthenticateKeyAsync(apiKey, client, ct);
        }
        catch (LeptonException e) when (e.Kind == ErrorKind.Unauthorized && client is not null)
        {
            using RateLimitLease lease = _failures.AttemptAcquire(client);
            if (!lease.IsAcquired)
            {
                throw Refusal(lease, FailedAttempts);
            }

            throw;
        }
    }

    private async Task<Caller> AuthenticateKeyAsync(string? apiKey, string? client, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(apiKey))
        {
            throw LeptonException.Unauthorized($"Send an API key in the '{ApiKeyHeader}' header.");
        }

        // One digest per request serves both the admin-key comparison and the key lookup.
        byte[] digest = ApiKeyStore.Digest(apiKey);
        if (IsAdminKey(digest))
        {
            Throttle("platform-admin");
            return Caller.PlatformAdmin;
        }

        string keyHash = ApiKeyStore.HashOf(digest);
        // A key not validated within the cache lifetime costs a registry read, which may fail. Failures are counted after
        // the read, so an address may only start as many reads as its budget has failures left: otherwise a stream of
        // made-up keys, many at once, would cost one registry read apiece however spent the budget. A key validated
        // within the cache lifetime reads nothing and is not counted, so a client sharing the address keeps working.
        string? lookupBy = client is not null && !_callers.Knows(keyHash) ? client : null;
        if (lookupBy is not null && !TryStartLookup(lookupBy))
        {
            throw Refusal(null, FailedAttempts);
        }

        Caller caller;
        try
        {
            caller = await _callers.GetAsync(keyHash, () => ValidateKeyAsync(apiKey, keyHash), ct);
        }
        finally
        {
            if (lookupBy is not null)
            {
                EndLookup(lookupBy);
            }
        }

        Throttle(caller.KeyId!);
        return caller;
    }

    private bool TryStartLookup(string client)
    {
        // A token bucket always reports its statistics.
        long failuresLeft = _failures.GetStatistics(client)!.CurrentAvailablePermits;
        if (_lookups.AddOrUpdate(client, 1, static (_, n) => n + 1) <= failuresLeft)
        {
            return true;
        }

        EndLookup(client);
        return false;
    }

    private void EndLookup(string client)
    {
        // The last lookup of an address removes its entry, so the map holds only addresses with lookups under way.
        while (_lookups.TryGetValue(client, out int n) &&
               !(n == 1 ? _lookups.TryRemove(new KeyValuePair<string, int>(client, 1)) : _lookups.TryUpdate(client, n - 1, n)))
        {
        }
    }

    private async Task<Caller> ValidateKeyAsync(string apiKey, string keyHash)
    {
        ApiKeyRecord? record = await _keys.FindAsync(apiKey, keyHash, CancellationToken.None);
        if (record is null || !record.IsUsableAt(_time.GetUtcNow()))
        {
            throw LeptonException.Unauthorized("The API key is not valid (unknown, revoked or expired).");
        }

        Tenant? tenant = await _tenants.FindAsync(record.TenantId, CancellationToken.None);
        if (tenant is null || tenant.Disabled)
        {
            throw LeptonException.Unauthorized("The API key is not valid (unknown, revoked or expired).");
        }

        await _keys.TouchAsync(record, CancellationToken.None);
        return new Caller(false, record.TenantId, record.Roles, record.KeyId);
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
        await _audit.AppendAsync(owner, $"tenant:{actingTenant}", AuditActions.DataUse, resource, outcome, purpose, ct);
        await _audit.AppendAsync(actingTenant, $"tenant:{actingTenant}", AuditActions.DataUse, resource, outcome, purpose, ct);
        return grant ?? throw LeptonException.Forbidden($"No active grant lets '{actingTenant}' use this dataset for '{purpose}'.");
    }

    public void Dispose()
    {
        _rateLimiter.Dispose();
        _failures.Dispose();
    }

    private void Throttle(string partition)
    {
        using RateLimitLease lease = _rateLimiter.AttemptAcquire(partition);
        if (!lease.IsAcquired)
        {
            throw Refusal(lease);
        }
    }

    /// <summary>The 429 for a spent budget, counted; Retry-After from the limiter's lease where it says, else 1 s.</summary>
    private static LeptonException Refusal(RateLimitLease? lease, string whose = LeptonException.KeyBudgetSpent)
    {
        int seconds = lease is not null && lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 1;
        Telemetry.LeptonTelemetry.Throttled.Add(1);
        return LeptonException.TooManyRequests(Math.Max(1, seconds), whose);
    }

    private bool IsAdminKey(byte[] presentedDigest)
    {
        // Comparing digests keeps the comparison constant-time whatever the lengths. The configured key's digest is
        // computed once (options do not change after start).
        _adminKeyDigest ??= ApiKeyStore.Digest(_options.Value.AdminKey);
        return CryptographicOperations.FixedTimeEquals(presentedDigest, _adminKeyDigest);
    }
}
