using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Lepton.Configuration;
using Microsoft.Extensions.Options;

namespace Lepton.Storage;

/// <summary>
/// Hands out storage clients. Tenant clients are always created for one named account, and only the
/// registry knows which account belongs to which tenant, so code that acts for a tenant cannot reach another's data by path.
/// </summary>
public sealed class StorageClients
{
    private readonly StorageOptions _options;
    private readonly Dictionary<string, TenantAccount> _accounts;
    private readonly TableServiceClient _platformTables;
    private readonly BlobServiceClient _platformBlobs;
    private readonly Lazy<TokenCredential> _credential = new(() => new DefaultAzureCredential());

    public StorageClients(IOptions<StorageOptions> options)
    {
        _options = options.Value;
        _accounts = _options.ParseTenantAccounts().ToDictionary(a => a.Name, StringComparer.Ordinal);
        // A connection string locally (Azurite); in Azure the table endpoint URI, reached with the managed identity.
        _platformTables = Uri.TryCreate(_options.PlatformConnection, UriKind.Absolute, out Uri? endpoint) && endpoint.Scheme is "https" or "http"
            ? new TableServiceClient(endpoint, _credential.Value)
            : new TableServiceClient(_options.PlatformConnection);
        _platformBlobs = _options.PlatformBlobEndpoint is { Length: > 0 } blobEndpoint
            ? new BlobServiceClient(new Uri(blobEndpoint), _credential.Value)
            : new BlobServiceClient(_options.PlatformConnection);
    }

    public IReadOnlyCollection<string> TenantAccountPool => _accounts.Keys;

    public TableClient PlatformTable(string name) => _platformTables.GetTableClient(name);

    public TableServiceClient PlatformTables => _platformTables;

    /// <summary>Platform blobs: the audit log and model artifacts. Never tenant data.</summary>
    public BlobServiceClient PlatformBlobs => _platformBlobs;

    /// <summary>The blob service of one tenant storage account from the configured pool.</summary>
    public BlobServiceClient TenantBlobService(string account)
    {
        if (!_accounts.TryGetValue(account, out TenantAccount? entry))
        {
            throw new InvalidOperationException($"Storage account '{account}' is not in Lepton:Storage:TenantAccounts.");
        }

        Uri endpoint = _options.BlobEndpointFor(account);
        return entry.Key is { Length: > 0 } key
            ? new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key))
            : new BlobServiceClient(endpoint, _credential.Value);
    }

    public BlobContainerClient TenantContainer(string account, string container) =>
        TenantBlobService(account).GetBlobContainerClient(container);
}
