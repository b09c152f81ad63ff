using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public sealed class TenantFunctions(TenantRegistry tenants, ApiKeyStore keys, UploadUrlIssuer uploads)
{
    /// <summary>Platform admin creates a tenant: links a storage account, creates its containers, returns its first admin key once.</summary>
    [Function(nameof(CreateTenant))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.CreatedTenant))]
    [RequiresAction(LeptonAction.ManageTenants)]
    public async Task<IActionResult> CreateTenant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants")] HttpRequest request, CancellationToken ct)
    {
        CreateTenantBody body = await request.ReadJsonBodyAsync<CreateTenantBody>(ct);
        Tenant tenant = await tenants.CreateAsync(body.Id ?? "", body.Name ?? "", request.Caller().Actor, ct);
        (ApiKeyRecord key, string plainKey) = await keys.IssueAsync(tenant.Id, Roles.All, null, request.Caller().Actor, ct);
        return new ObjectResult(new CreatedTenant(tenant, tenant.StorageAccount, plainKey, key.KeyId, key.Roles))
        {
            StatusCode = StatusCodes.Status201Created,
        };
    }

    [Function(nameof(GetTenant))]
    [OpenApiResponse(typeof(Lepton.Tenancy.Tenant))]
    [RequiresAction(LeptonAction.ReadTenant)]
    public async Task<IActionResult> GetTenant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(await tenants.FindAsync(tenant, ct) ?? throw Errors.LeptonException.NotFound("No such resource."));

    /// <summary>Platform admin disables (or re-enables) a tenant; its keys stop working with the next request.</summary>
    [Function(nameof(UpdateTenant))]
    [OpenApiResponse(typeof(Lepton.Tenancy.Tenant))]
    [RequiresAction(LeptonAction.ManageTenants)]
    public async Task<IActionResult> UpdateTenant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "tenants/{tenant}")] HttpRequest request, string tenant, CancellationToken ct)
    {
        UpdateTenantBody body = await request.ReadJsonBodyAsync<UpdateTenantBody>(ct);
        bool disabled = body.Disabled ?? throw Errors.LeptonException.BadRequest("'disabled' (true or false) is required.");
        return new OkObjectResult(await tenants.SetDisabledAsync(tenant, disabled, request.Caller().Actor, ct));
    }

    /// <summary>A short-lived, write-only URL for one file: data to ingest, or (with a model) a file to score in batch (valet key).</summary>
    [Function(nameof(CreateUpload))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.UploadTarget))]
    [RequiresAction(LeptonAction.IssueUploadUrl)]
    public async Task<IActionResult> CreateUpload(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/uploads")] HttpRequest request, string tenant, CancellationToken ct)
    {
        CreateUploadBody body = await request.ReadJsonBodyAsync<CreateUploadBody>(ct);
        UploadUrl upload = await uploads.IssueAsync(tenant, body.Dataset, body.Model, body.FileName, ct);
        var target = new UploadTarget(upload.Url, "PUT", new Dictionary<string, string> { ["x-ms-blob-type"] = "BlockBlob" }, upload.Container, upload.BlobName, upload.ExpiresAt);
        return new ObjectResult(target) { StatusCode = StatusCodes.Status201Created };
    }
}
