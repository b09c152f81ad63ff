using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

/// <summary>The owner's admin grants another tenant or a collaboration a purpose on a dataset, lists grants, revokes them.</summary>
public sealed class GrantFunctions(GrantStore grants)
{
    [Function(nameof(CreateGrant))]
    [OpenApiResponse(typeof(Lepton.Security.Grant))]
    [RequiresAction(LeptonAction.ManageGrants)]
    public async Task<IActionResult> CreateGrant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/datasets/{dataset}/grants")] HttpRequest request,
        string tenant, string dataset, CancellationToken ct)
    {
        GrantRequest body = await request.ReadJsonBodyAsync<GrantRequest>(ct);
        Grant grant = await grants.CreateAsync(tenant, dataset, body, request.Caller().Actor, ct);
        return new ObjectResult(grant) { StatusCode = StatusCodes.Status201Created };
    }

    [Function(nameof(ListGrants))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.GrantList))]
    [RequiresAction(LeptonAction.ManageGrants)]
    public async Task<IActionResult> ListGrants(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/datasets/{dataset}/grants")] HttpRequest request,
        string tenant, string dataset, CancellationToken ct) =>
        new OkObjectResult(new GrantList(await grants.ListAsync(tenant, dataset, ct)));

    [Function(nameof(RevokeGrant))]
    [OpenApiResponse(typeof(Lepton.Security.Grant))]
    [RequiresAction(LeptonAction.ManageGrants)]
    public async Task<IActionResult> RevokeGrant(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "tenants/{tenant}/datasets/{dataset}/grants/{grantId}")] HttpRequest request,
        string tenant, string dataset, string grantId, CancellationToken ct) =>
        new OkObjectResult(await grants.RevokeAsync(tenant, dataset, grantId, request.Caller().Actor, ct));
}
