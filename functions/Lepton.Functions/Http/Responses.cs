using Lepton.Audit;
using Lepton.Collaborations;
using Lepton.Collaborations.Contributions;
using Lepton.Datasets;
using Lepton.Security;
using Lepton.Tenancy;

namespace Lepton.Functions.Http;

// The answers the functions compose themselves (lists, one-time secrets, run receipts): records, so the API description
// documents their shape and the contract test holds the functions to it.

public sealed record DatasetList(IReadOnlyList<DatasetSummary> Datasets);

public sealed record ModelList(IReadOnlyList<ModelListItem> Models);

public sealed record ModelListItem(string Model, int LatestVersion, int? ProductionVersion);

public sealed record KeyList(IReadOnlyList<ApiKeyRecord> Keys);

public sealed record GrantList(IReadOnlyList<Grant> Grants);

public sealed record CollaborationList(IReadOnlyList<Collaboration> Collaborations);

public sealed record ContributionList(IReadOnlyList<ContributionSummary> Contributions);

public sealed record TreeHeadList(IReadOnlyList<SignedTreeHead> Heads);

/// <summary>A new API key: the secret is in this answer only.</summary>
public sealed record IssuedKey(string ApiKey, string KeyId, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>A new tenant with its first (admin) key, shown once.</summary>
public sealed record CreatedTenant(Tenant Tenant, string StorageAccount, string ApiKey, string KeyId, IReadOnlyList<string> Roles);

/// <summary>An upload URL: PUT the file to it with the headers, before it expires.</summary>
public sealed record UploadTarget(Uri UploadUrl, string Method, IReadOnlyDictionary<string, string> Headers, string Container, string Blob, DateTimeOffset ExpiresAt);

/// <summary>The 202 of a request that started a run.</summary>
public sealed record RunReceipt(string RunId, string StatusUrl, string? ReportUrl = null);

public sealed record SigningKey(string KeyId, string Algorithm, string PublicKey, string Pem);

public sealed record HealthReport(string Status, HealthChecks Checks);

public sealed record HealthChecks(string PlatformStorage);
