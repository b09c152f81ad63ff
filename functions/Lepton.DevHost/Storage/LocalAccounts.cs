using System.Security.Cryptography;
using System.Text.Json;

namespace Lepton.DevHost.Storage;

/// <summary>An Azurite account: name and key.</summary>
public sealed record LocalAccount(string Name, string Key);

/// <summary>
/// The accounts Azurite serves: the platform account plus a pool of tenant accounts that registration assigns,
/// because Azurite reads its account list once at start. Keys are random per state folder and kept there, so a
/// persisted emulator can be reopened.
/// </summary>
public sealed record LocalAccounts(LocalAccount Platform, IReadOnlyList<LocalAccount> Tenants)
{
    /// <summary>Azurite's documented development account, so "UseDevelopmentStorage=true" tools keep working.</summary>
    public const string DevAccountName = "devstoreaccount1";
    public const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static LocalAccounts LoadOrCreate(string stateDirectory, int tenantAccounts)
    {
        string path = Path.Combine(stateDirectory, "accounts.json");
        List<LocalAccount> tenants = File.Exists(path)
            ? JsonSerializer.Deserialize<List<LocalAccount>>(File.ReadAllText(path)) ?? []
            : [];
        for (int i = tenants.Count + 1; i <= tenantAccounts; i++)
        {
            tenants.Add(new LocalAccount($"tenantstore{i:D2}", Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))));
        }

        Directory.CreateDirectory(stateDirectory);
        File.WriteAllText(path, JsonSerializer.Serialize(tenants));
        return new LocalAccounts(new LocalAccount(DevAccountName, DevAccountKey), tenants);
    }

    public IEnumerable<LocalAccount> All => Tenants.Prepend(Platform);

    /// <summary>The AZURITE_ACCOUNTS value: "name1:key1;name2:key2".</summary>
    public string AzuriteAccountsVariable => string.Join(';', All.Select(a => $"{a.Name}:{a.Key}"));

    /// <summary>The Lepton:Storage:TenantAccounts value: "name=key;...".</summary>
    public string TenantAccountsSetting => string.Join(';', Tenants.Select(a => $"{a.Name}={a.Key}"));

    public string PlatformConnectionString(AzuritePorts ports) =>
        $"DefaultEndpointsProtocol=http;AccountName={Platform.Name};AccountKey={Platform.Key};" +
        $"BlobEndpoint=http://127.0.0.1:{ports.Blob}/{Platform.Name};QueueEndpoint=http://127.0.0.1:{ports.Queue}/{Platform.Name};" +
        $"TableEndpoint=http://127.0.0.1:{ports.Table}/{Platform.Name};";
}

public sealed record AzuritePorts(int Blob, int Queue, int Table);
