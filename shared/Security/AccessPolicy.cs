using System.Security.Cryptography;
using System.Text;
using Lepton.Configuration;
using Lepton.Errors;
using Lepton.Tenancy;
using Microsoft.Extensions.Options;

namespace Lepton.Security;

/// <summary>Things a caller can ask to do; each maps to the roles that allow it in <see cref="AccessPolicy"/>.</summary>
public enum LeptonAction
{
    ManageTenants,
    IssueUploadUrl,
    ReadDatasets,
    ReadRuns,
}

/// <summary>Who is calling: the platform administrator, or a key of one tenant with its roles.</summary>
public sealed record Caller(bool IsPlatformAdmin, string? TenantId, IReadOnlyList<string> Roles, string? KeyId)
{
    public static Caller PlatformAdmin { get; } = new(true, null, [], null);
}

/// <summary>
/// The single authorization policy. Every HTTP function passes the presented key, the action and the tenant whose
/// resource it touches; no route checks anything itself. Another tenant's resource answers 404 whether it exists
/// or not, so existence never leaks; a known resource with the wrong role answers 403; no or a bad key 401.
/// </summary>
public sealed class AccessPolicy(ApiKeyStore keys, TenantRegistry tenants, IOptions<LeptonOptions> options)
{
    public const string ApiKeyHeader = "x-api-key";

    private static readonly Dictionary<LeptonAction, string[]> AllowedRoles = new()
    {
        [LeptonAction.IssueUploadUrl] = [Roles.Admin, Roles.Contributor],
        [LeptonAction.ReadDatasets] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
        [LeptonAction.ReadRuns] = [Roles.Admin, Roles.Contributor, Roles.Consumer],
    };

    /// <summary>Authenticates the key and authorizes the action on the tenant's resources, or throws the matching error.</summary>
    public async Task<Caller> RequireAsync(string? apiKey, LeptonAction action, string? tenantId, CancellationToken ct = default)
    {
        Caller caller = await AuthenticateAsync(apiKey, ct);
        Authorize(caller, action, tenantId);
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
            return Caller.PlatformAdmin;
        }

        ApiKeyRecord? record = await keys.FindAsync(apiKey, ct);
        if (record is null || record.Revoked)
        {
            throw LeptonException.Unauthorized("The API key is not valid.");
        }

        Tenant? tenant = await tenants.FindAsync(record.TenantId, ct);
        if (tenant is null || tenant.Disabled)
        {
            throw LeptonException.Unauthorized("The API key is not valid.");
        }

        return new Caller(false, record.TenantId, record.Roles, record.KeyId);
    }

    public static void Authorize(Caller caller, LeptonAction action, string? tenantId)
    {
        if (action == LeptonAction.ManageTenants)
        {
            if (!caller.IsPlatformAdmin)
            {
                throw LeptonException.Forbidden("Only the platform administrator manages tenants.");
            }

            return;
        }

        if (caller.IsPlatformAdmin)
        {
            throw LeptonException.Forbidden("The platform administrator key only manages tenants; use a key of the tenant.");
        }

        if (tenantId is null || !string.Equals(caller.TenantId, tenantId, StringComparison.Ordinal))
        {
            throw LeptonException.NotFound("No such resource.");
        }

        if (!AllowedRoles[action].Any(caller.Roles.Contains))
        {
            throw LeptonException.Forbidden($"This key lacks a role for this action (needs one of: {string.Join(", ", AllowedRoles[action])}).");
        }
    }

    private bool IsAdminKey(string presented)
    {
        string configured = options.Value.AdminKey;
        if (configured.Length == 0)
        {
            return false;
        }

        // Comparing hashes keeps the comparison constant-time whatever the lengths.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }
}
