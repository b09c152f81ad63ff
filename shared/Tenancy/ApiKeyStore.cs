using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Lepton.Storage;

namespace Lepton.Tenancy;

public sealed record ApiKeyRecord(string KeyId, string TenantId, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, bool Revoked);

/// <summary>
/// Tenant API keys. A key is "lep_{id}_{secret}"; only the SHA-256 of the whole key is stored, found by its id.
/// The plain key exists once, in the response that issues it.
/// </summary>
public sealed class ApiKeyStore(StorageClients storage, TimeProvider time)
{
    internal const string TableName = "apikeys";
    private const string Prefix = "lep_";
    private const string Row = "key";

    private TableClient Keys => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Keys.CreateIfNotExistsAsync(ct);

    public async Task<(ApiKeyRecord Record, string PlainKey)> IssueAsync(string tenantId, IReadOnlyList<string> roles, CancellationToken ct = default)
    {
        string keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string plain = $"{Prefix}{keyId}_{secret}";
        var record = new ApiKeyRecord(keyId, tenantId, roles, time.GetUtcNow(), Revoked: false);
        await Keys.AddEntityAsync(new TableEntity(keyId, Row)
        {
            ["Tenant"] = tenantId,
            ["Hash"] = Hash(plain),
            ["Roles"] = string.Join(',', roles),
            ["CreatedAt"] = record.CreatedAt,
            ["Revoked"] = false,
        }, ct);
        return (record, plain);
    }

    /// <summary>The key's record if the presented key matches a stored hash; null for anything else.</summary>
    public async Task<ApiKeyRecord?> FindAsync(string presented, CancellationToken ct = default)
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
        byte[] actual = Convert.FromHexString(Hash(presented));
        if (!CryptographicOperations.FixedTimeEquals(stored, actual))
        {
            return null;
        }

        return new ApiKeyRecord(keyId, e.GetString("Tenant") ?? "",
            (e.GetString("Roles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue, e.GetBoolean("Revoked") ?? false);
    }

    public static string Hash(string plain) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plain)));

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
