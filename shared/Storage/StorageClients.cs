using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Lepton.Configuration;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lepton.Storage;

/// <summary>
/// Hands out storage clients. Tenant clients are always created for one named account, and only the
/// registry knows which account belongs to which tenant, so code that acts for a tenant cannot reach another's data by path.
/// The clients themselves come from the Azure client factory: one per account, made once and reused (they are thread-safe
/// and hold the connection pool).
/// </summary>
public sealed class StorageClients(
    IOptions<StorageOptions> options, IAzureClientFactory<BlobServiceClient> blobs, IAzureClientFactory<TableServiceClient> tables, IAzureClientFactory<QueueServiceClient> queues)
{
    /// <summary>The client name of the platform account; tenant clients are named after their account.</summary>
    public const string Platform = "lepton-platform";

    private readonly HashSet<string> _accounts = options.Value.ParseTenantAccounts().Select(a => a.Name).ToHashSet(StringComparer.Ordinal);

    public IReadOnlyCollection<string> TenantAccountPool => _accounts;

    public TableClient PlatformTable(string name) => PlatformTables.GetTableClient(name);

    public TableServiceClient PlatformTables => tables.CreateClient(Platform);

    /// <summary>Platform queues: the GPU trainer's jobs.</summary>
    public QueueServiceClient PlatformQueues => queues.CreateClient(Platform);

    /// <summary>Platform blobs: the audit log and model artifacts. Never tenant data.</summary>
    public BlobServiceClient PlatformBlobs => blobs.CreateClient(Platform);

    /// <summary>The blob service of one tenant storage account from the configured pool.</summary>
    public BlobServiceClient TenantBlobService(string account) =>
        _accounts.Contains(account)
            ? blobs.CreateClient(account)
            : throw new InvalidOperationException($"Storage account '{account}' is not in Lepton:Storage:TenantAccounts.");

    public BlobContainerClient TenantContainer(string account, string container) =>
        TenantBlobService(account).GetBlobContainerClient(container);

    /// <summary>
    /// Registers the platform client and one named client per tenant account. Locally the settings carry connection
    /// strings and account keys (Azurite); in Azure they carry endpoints only, reached with the managed identity.
    /// </summary>
    public static void Register(IServiceCollection services, IConfiguration configuration)
    {
        StorageOptions settings = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        services.AddAzureClients(builder =>
        {
            builder.UseCredential(new DefaultAzureCredential());
            builder.ConfigureDefaults(o =>
            {
                o.Retry.NetworkTimeout = settings.NetworkTimeout;
                o.Retry.MaxRetries = settings.MaxRetries;
            });
            if (Uri.TryCreate(settings.PlatformConnection, UriKind.Absolute, out Uri? endpoint) && endpoint.Scheme is "https" or "http")
            {
                builder.AddTableServiceClient(endpoint).WithName(Platform);
            }
            else
            {
                builder.AddTableServiceClient(settings.PlatformConnection).WithName(Platform);
            }

            // Base64 like the Functions queue trigger, so either side can read the other's messages.
            if (settings.PlatformQueueEndpoint is { Length: > 0 } queueEndpoint)
            {
                builder.AddQueueServiceClient(new Uri(queueEndpoint)).WithName(Platform).ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
            }
            else
            {
                builder.AddQueueServiceClient(settings.PlatformConnection).WithName(Platform).ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
            }

            if (settings.PlatformBlobEndpoint is { Length: > 0 } blobEndpoint)
            {
                builder.AddBlobServiceClient(new Uri(blobEndpoint)).WithName(Platform);
            }
            else
            {
                builder.AddBlobServiceClient(settings.PlatformConnection).WithName(Platform);
            }

            foreach (TenantAccount account in settings.ParseTenantAccounts())
            {
                Uri tenantEndpoint = settings.BlobEndpointFor(account.Name);
                (account.Key is { Length: > 0 } key
                    ? builder.AddBlobServiceClient(tenantEndpoint, new StorageSharedKeyCredential(account.Name, key))
                    : builder.AddBlobServiceClient(tenantEndpoint)).WithName(account.Name);
            }
        });
    }
}
