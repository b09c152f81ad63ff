using Lepton.Functions.Http;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public sealed record CreateTenantBody(string? Id, string? Name);

public sealed record CreateUploadBody(string? Dataset, string? FileName);

public sealed class TenantFunctions(AccessPolicy access, TenantRegistry tenants, ApiKeyStore keys, UploadUrlIssuer uploads)
{
    /// <summary>Platform admin creates a tenant: links a storage account, creates its containers, returns its first admin key once.</summary>
    [Function(nameof(CreateTenant))]
    public async Task<IActionResult> CreateTenant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants")] HttpRequest request, CancellationToken ct)
    {
        await access.RequireAsync(request.ApiKey(), LeptonAction.ManageTenants, null, ct);
        CreateTenantBody body = await request.ReadJsonBodyAsync<CreateTenantBody>(ct);
        Tenant tenant = await tenants.CreateAsync(body.Id ?? "", body.Name ?? "", ct);
        (ApiKeyRecord key, string plainKey) = await keys.IssueAsync(tenant.Id, Roles.All, ct);
        return new ObjectResult(new { tenant, storageAccount = tenant.StorageAccount, apiKey = plainKey, keyId = key.KeyId, roles = key.Roles })
        {
            StatusCode = StatusCodes.Status201Created,
        };
    }

    /// <summary>A short-lived, write-only URL for one file in the tenant's ingest container (valet key).</summary>
    [Function(nameof(CreateUpload))]
    public async Task<IActionResult> CreateUpload(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/uploads")] HttpRequest request, string tenant, CancellationToken ct)
    {
        await access.RequireAsync(request.ApiKey(), LeptonAction.IssueUploadUrl, tenant, ct);
        CreateUploadBody body = await request.ReadJsonBodyAsync<CreateUploadBody>(ct);
        UploadUrl upload = await uploads.IssueAsync(tenant, body.Dataset, body.FileName, ct);
        return new ObjectResult(new
        {
            uploadUrl = upload.Url,
            method = "PUT",
            headers = new Dictionary<string, string> { ["x-ms-blob-type"] = "BlockBlob" },
            container = upload.Container,
            blob = upload.BlobName,
            expiresAt = upload.ExpiresAt,
        })
        { StatusCode = StatusCodes.Status201Created };
    }
}
