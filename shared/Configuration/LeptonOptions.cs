using System.ComponentModel.DataAnnotations;
namespace Lepton.Configuration;

/// <summary>Platform settings, bound from the "Lepton" configuration section (env: Lepton__AdminKey, ...).</summary>
public sealed class LeptonOptions
{
    public const string SectionName = "Lepton";

    /// <summary>
    /// The platform administrator key; it only manages tenants. Key Vault reference in Azure. Required: a host without
    /// one refuses to start rather than run with tenant management silently off.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Lepton:AdminKey (env Lepton__AdminKey) must be set.")]
    [MinLength(16, ErrorMessage = "Lepton:AdminKey must be at least 16 characters.")]
    public string AdminKey { get; set; } = "";

    /// <summary>How long an upload URL stays valid.</summary>
    public TimeSpan UploadUrlLifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>Where the platform's own data and the tenants' storage accounts live ("Lepton:Storage").</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Lepton:Storage";

    /// <summary>
    /// The platform account's registry tables: a connection string (Azurite) or the table endpoint URI
    /// (Azure, reached with the managed identity; no keys in settings).
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string PlatformConnection { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>The platform account's blob endpoint when <see cref="PlatformConnection"/> is an endpoint URI (Azure).</summary>
    public string PlatformBlobEndpoint { get; set; } = "";

    /// <summary>The platform account's queue endpoint when <see cref="PlatformConnection"/> is an endpoint URI (Azure): the training queue.</summary>
    public string PlatformQueueEndpoint { get; set; } = "";

    /// <summary>
    /// When set, every tenant storage client handed out is recorded in this file with the tenant an activity declared it
    /// acts for (<see cref="Storage.StorageAccess"/>): the isolation tests read it to show that a member's activity
    /// opened only that member's account. Empty (the default) records nothing.
    /// </summary>
    public string AccessLogPath { get; set; } = "";

    /// <summary>Blob endpoint of a tenant account; {account} is replaced by the account name.</summary>
    public string TenantBlobEndpointTemplate { get; set; } = "https://{account}.blob.core.windows.net";

    /// <summary>
    /// The tenant storage accounts the platform may assign, "name" or "name=key" separated by ';'.
    /// In Azure the accounts come from the Bicep tenants parameter and carry no keys (managed identity);
    /// locally they are Azurite accounts and carry their keys.
    /// </summary>
    public string TenantAccounts { get; set; } = "";

    /// <summary>
    /// How long one storage operation may wait for an answer (each read of a download counts on its own). The SDK's
    /// default of 100 s, times its retries, held an HTTP caller for minutes while storage did not answer; with this, a
    /// stalled account turns into a 503 with Retry-After within <see cref="NetworkTimeout"/> × (<see cref="MaxRetries"/> + 1).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries of a failed or timed-out storage operation before the caller sees the failure.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    public IReadOnlyList<TenantAccount> ParseTenantAccounts() =>
        TenantAccounts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry =>
            {
                int eq = entry.IndexOf('=');
                return eq < 0 ? new TenantAccount(entry, null) : new TenantAccount(entry[..eq], entry[(eq + 1)..]);
            })
            .ToList();

    public Uri BlobEndpointFor(string account) =>
        new(TenantBlobEndpointTemplate.Replace("{account}", account, StringComparison.Ordinal).TrimEnd('/') + "/");
}

public sealed record TenantAccount(string Name, string? Key);

/// <summary>Limits and rules of preprocessing ("Lepton:Ingestion").</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Lepton:Ingestion";

    /// <summary>Files larger than this are rejected without being read.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Rows whose field count differs from the header are dropped; more than this share rejects the file.</summary>
    [Range(0.0, 1.0)]
    public double MaxRaggedRowFraction { get; set; } = 0.01;

    /// <summary>Tukey fence multiplier for clipping numeric outliers: [Q1 - k·IQR, Q3 + k·IQR]. 3 marks "far out" values only.</summary>
    public double OutlierIqrMultiplier { get; set; } = 3.0;

    /// <summary>Most columns a file may have.</summary>
    [Range(1, 100_000)]
    public int MaxColumns { get; set; } = 2000;

    /// <summary>
    /// Ingest runs of one tenant that may process at once; more wait their turn (status "queued"), so one tenant's burst
    /// of uploads cannot hold up every other tenant's files.
    /// </summary>
    [Range(1, 1000)]
    public int MaxConcurrentRunsPerTenant { get; set; } = 4;
}
