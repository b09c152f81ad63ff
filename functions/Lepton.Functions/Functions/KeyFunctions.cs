using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Security;
using Lepton.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

/// <summary>A tenant admin's API keys: issued once in plain text, listed without secrets, revoked at once.</summary>
public sealed class KeyFunctions(ApiKeyStore keys)
{
    [Function(nameof(CreateKey))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.IssuedKey))]
    [RequiresAction(LeptonAction.ManageKeys)]
    public async Task<IActionResult> CreateKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/keys")] HttpRequest request, string tenant, CancellationToken ct)
    {
        CreateKeyBody body = await request.ReadJsonBodyAsync<CreateKeyBody>(ct);
        (ApiKeyRecord key, string plain) = await keys.IssueAsync(tenant, body.Roles, body.ExpiresAt, request.Caller().Actor, ct);
        return new ObjectResult(new IssuedKey(plain, key.KeyId, key.Roles, key.CreatedAt, key.ExpiresAt))
        {
            StatusCode = StatusCodes.Status201Created,
        };
    }

    [Function(nameof(ListKeys))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.KeyList))]
    [RequiresAction(LeptonAction.ManageKeys)]
    public async Task<IActionResult> ListKeys(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/keys")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(new KeyList(await keys.ListAsync(tenant, ct)));

    [Function(nameof(RevokeKey))]
    [OpenApiResponse(typeof(Lepton.Tenancy.ApiKeyRecord))]
    [RequiresAction(LeptonAction.ManageKeys)]
    public async Task<IActionResult> RevokeKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "tenants/{tenant}/keys/{keyId}")] HttpRequest request,
        string tenant, string keyId, CancellationToken ct) =>
        new OkObjectResult(await keys.RevokeAsync(tenant, keyId, request.Caller().Actor, ct));
}
