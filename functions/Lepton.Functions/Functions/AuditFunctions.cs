using Lepton.Functions.Http;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

/// <summary>
/// The tenant's audit log: pages of entries, verification of the hash chain and of every signed tree head, the heads
/// themselves, and Merkle proofs (inclusion of an entry, consistency between two heads) a tenant can check on its own.
/// </summary>
public sealed class AuditFunctions(AuditLog audit, AuditTreeHeads heads, AuditSigner signer)
{
    private const int MaxPage = 500;

    [Function(nameof(ListAudit))]
    [OpenApiResponse(typeof(Lepton.Audit.AuditPage))]
    [OpenApiQuery("from", "the first sequence number (default 1)")]
    [OpenApiQuery("max", "entries per page (default 100, at most 500)")]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> ListAudit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit")] HttpRequest request, string tenant, CancellationToken ct)
    {
        long from = ParseQuery(request, "from") ?? 1;
        int max = (int)Math.Min(ParseQuery(request, "max") ?? 100, MaxPage);
        return new OkObjectResult(await audit.ReadAsync(tenant, from, max, ct));
    }

    [Function(nameof(VerifyAudit))]
    [OpenApiResponse(typeof(Lepton.Audit.AuditVerification))]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> VerifyAudit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit/verify")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(await heads.VerifyAsync(tenant, ct));

    [Function(nameof(ListAuditHeads))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.TreeHeadList))]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> ListAuditHeads(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit/heads")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(new TreeHeadList(await heads.ListAsync(tenant, ct)));

    /// <summary>Signs the log's current head now (heads are also signed at intervals); 201 with the head.</summary>
    [Function(nameof(SignAuditHead))]
    [OpenApiResponse(typeof(Lepton.Audit.SignedTreeHead))]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> SignAuditHead(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tenants/{tenant}/audit/heads")] HttpRequest request, string tenant, CancellationToken ct) =>
        await heads.SignAsync(tenant, ct) is { } head
            ? new CreatedResult($"/api/tenants/{tenant}/audit/heads", head)
            : throw LeptonException.Conflict("The log has no entries to sign yet.");

    [Function(nameof(ProveAuditInclusion))]
    [OpenApiResponse(typeof(Lepton.Audit.InclusionProof))]
    [OpenApiQuery("seq", "the entry", Required = true, Example = "1")]
    [OpenApiQuery("size", "the tree size (default: the latest signed head's)")]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> ProveAuditInclusion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit/proofs/inclusion")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(await heads.ProveInclusionAsync(tenant, ParseQuery(request, "seq") ?? throw LeptonException.BadRequest("'seq' is required."),
            ParseQuery(request, "size"), ct));

    [Function(nameof(ProveAuditConsistency))]
    [OpenApiResponse(typeof(Lepton.Audit.ConsistencyProof))]
    [OpenApiQuery("from", "the earlier tree size", Required = true, Example = "1")]
    [OpenApiQuery("to", "the later tree size (default: the log's size)")]
    [RequiresAction(LeptonAction.ReadAudit)]
    public async Task<IActionResult> ProveAuditConsistency(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/audit/proofs/consistency")] HttpRequest request, string tenant, CancellationToken ct) =>
        new OkObjectResult(await heads.ProveConsistencyAsync(tenant, ParseQuery(request, "from") ?? throw LeptonException.BadRequest("'from' is required."),
            ParseQuery(request, "to"), ct));

    /// <summary>The public key that signs tree heads, for anyone to pin (anonymous: it is public).</summary>
    [Function(nameof(GetAuditSigningKey))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.SigningKey))]
    public IActionResult GetAuditSigningKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit/signing-key")] HttpRequest request) =>
        new OkObjectResult(new SigningKey(signer.KeyId, "ECDSA P-256 SHA-256 (DER signature)", signer.PublicKey, signer.PublicKeyPem));

    private static long? ParseQuery(HttpRequest request, string name) =>
        request.Query[name].FirstOrDefault() is not { } text ? null
        : long.TryParse(text, out long value) && value > 0 ? value
        : throw LeptonException.BadRequest($"'{name}' must be a positive whole number.");
}
