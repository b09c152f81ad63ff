using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Tenancy;

public sealed record ApiKeyRecord(
    string KeyId,
    string TenantId,
    IReadOnlyList<string> Roles,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    bool Revoked)
{
    public bool IsUsableAt(DateTimeOffset now) => !Revoked && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>
/// Tenant API keys. A key is "lep_{id}_{secret}"; only the SHA-256 of the whole key is stored, found by its id.
/// The plain key exists once, in the response that issues it.
/// </summary>
public sealed class ApiKeyStore(StorageClients storage, AuditOutbox outbox, Security.CallerCache callers, TimeProvider time)
{
    internal const string TableName = "apikeys";
    private const string Prefix = "lep_";
    private const string Row = "key";

    /// <summary>Last-used times are written at most this often per key, so authentication does not write on every request.</summary>
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private TableClient Keys => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Keys.CreateIfNotExistsAsync(ct);

    public async Task<(ApiKeyRecord Record, string PlainKey)> IssueAsync(string tenantId, IReadOnlyList<string>? roles, DateTimeOffset? expiresAt, string actor, CancellationToken ct = default)
    {
        if (roles is null || roles.Count == 0 || roles.Any(r => !Tenancy.Roles.All.Contains(r)))
        {
            throw LeptonException.BadRequest($"'roles' must name one or more of: {string.Join(", ", Tenancy.Roles.All)}.");
        }

        DateTimeOffset now = time.GetUtcNow();
        if (expiresAt is { } expiry && expiry <= now)
        {
            throw LeptonException.BadRequest("'expiresAt' must be in the future.");
        }

        string keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string plain = $"{Prefix}{keyId}_{secret}";
        var record = new ApiKeyRecord(keyId, tenantId, roles.Distinct().ToList(), now, expiresAt, null, Revoked: false);
        var row = new TableEntity(keyId, Row)
        {
            ["Tenant"] = tenantId,
            ["Hash"] = Hash(plain),
            ["Roles"] = string.Join(',', record.Roles),
            ["CreatedAt"] = record.CreatedAt,
            ["ExpiresAt"] = expiresAt,
            ["Revoked"] = false,
        };
        await outbox.CommitAsync(Keys, keyId, [new TableTransactionAction(TableTransactionActionType.Add, row)],
            new PendingAuditEntry([tenantId], actor, AuditActions.KeyIssued, $"tenants/{tenantId}/keys/{keyId}", $"roles {string.Join(',', record.Roles)}"), ct);
        return (record, plain);
    }

    /// <summary>The key's record if the presented key matches a stored hash; null for anything else.</summary>
    public async Task<ApiKeyRecord?> FindAsync(string presented, string presentedHash, CancellationToken ct = default)
    {
        if (!TryParseId(presented, out string keyId))
        {
            return null;
        }

        NullableResponse<TableEntity> row = await Keys.GetEntityIfExistsAsync<TableEntity>(keyId, Row, cancellationToken: ct);
        if (!row.HasValue)
        {
            return null;
        }

        TableEntity e = row.Value!;
        byte[] stored = Convert.FromHexString(e.GetString("Hash") ?? "");
        byte[] actual = Convert.FromHexString(presentedHash);
        return CryptographicOperations.FixedTimeEquals(stored, actual) ? ToRecord(e) : null;
    }

    /// <summary>Notes that the key was used, at most once a minute.</summary>
    public async Task TouchAsync(ApiKeyRecord key, CancellationToken ct = default)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (key.LastUsedAt is { } last && now - last < LastUsedResolution)
        {
            return;
        }

        await Keys.UpdateEntityAsync(new TableEntity(key.KeyId, Row) { ["LastUsedAt"] = now }, ETag.All, TableUpdateMode.Merge, ct);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string tenantId, CancellationToken ct = default)
    {
        var keys = new List<ApiKeyRecord>();
        await foreach (TableEntity e in Keys.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Tenant eq {tenantId}"), cancellationToken: ct))
        {
            keys.Add(ToRecord(e));
        }

        return keys.OrderBy(k => k.CreatedAt).ToList();
    }

    /// <summary>Revokes a key of the tenant; effective for the next request. Another tenant's key id answers 404.</summary>
    public async Task<ApiKeyRecord> RevokeAsync(string tenantId, string keyId, string actor, CancellationToken ct = default)
    {
        NullableResponse<TableEntity> row = keyId.Length == 16 && keyId.All(char.IsAsciiHexDigitLower)
            ? await Keys.GetEntityIfExistsAsync<TableEntity>(keyId, Row, cancellationToken: ct)
            : null!;
        if (row is null || !row.HasValue || row.Value!.GetString("Tenant") != tenantId)
        {
            throw LeptonException.NotFound($"API key '{keyId}' was not found.");
        }

        TableEntity e = row.Value;
        e["Revoked"] = true;
        e["RevokedAt"] = time.GetUtcNow();
        await outbox.CommitAsync(Keys, keyId, [new TableTransactionAction(TableTransactionActionType.UpdateMerge, e, e.ETag)],
            new PendingAuditEntry([tenantId], actor, AuditActions.KeyRevoked, $"tenants/{tenantId}/keys/{keyId}", "done"), ct);
        callers.Clear();
        return ToRecord(e);
    }

    public static string Hash(string plain) => HashOf(Digest(plain));

    /// <summary>The SHA-256 of a presented key; <see cref="HashOf"/> turns it into the stored form.</summary>
    public static byte[] Digest(string plain) => SHA256.HashData(Encoding.UTF8.GetBytes(plain));

    public static string HashOf(byte[] digest) => Convert.ToHexStringLower(digest);

    private static ApiKeyRecord ToRecord(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("Tenant") ?? "",
        (e.GetString("Roles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetDateTimeOffset("ExpiresAt"),
        e.GetDateTimeOffset("LastUsedAt"),
        e.GetBoolean("Revoked") ?? false);

    private static bool TryParseId(string presented, out string keyId)
    {
        keyId = "";
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return false;
        }

        int end = presented.IndexOf('_', Prefix.Length);
        if (end != Prefix.Length + 16)
        {
            return false;
        }

        keyId = presented[Prefix.Length..end];
        return keyId.All(char.IsAsciiHexDigitLower);
    }
}
