using Lepton.Audit;
using Lepton.Errors;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

/// <summary>The tenant's hash-chained audit log: pages of entries, and a verification of the whole chain.</summary>
public sealed class AuditFunctions(AuditLog audit)
{
    private const int MaxPage = 500;

    [Function(nameof(ListAudit))]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> ListAudit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit")] HttpRequest request, string tenant, CancellationToken ct)
    {
        long from = ParseQuery(request, "from", 1);
        int max = (int)Math.Min(ParseQuery(request, "max", 100), MaxPage);
        return new OkObjectResult(await audit.ReadAsync(tenant, from, max, ct));
    }

    [Function(nameof(VerifyAudit))]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> VerifyAudit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit/verify")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(await audit.VerifyAsync(tenant, ct));

    private static long ParseQuery(HttpRequest request, string name, long fallback) =>
        request.Query[name].FirstOrDefault() is not { } text ? fallback
        : long.TryParse(text, out long value) && value > 0 ? value
        : throw LeptonException.BadRequest($"'{name}' must be a positive whole number.");
}
