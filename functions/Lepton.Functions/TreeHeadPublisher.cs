using Lepton.Audit;
using Lepton.Tenancy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Signs a new tree head for every tenant whose audit log grew, once per <see cref="AuditOptions.TreeHeadInterval"/>
/// (and witnesses it in the partners' chains). One tenant's failure does not keep the others' heads from being signed.
/// </summary>
public sealed partial class TreeHeadPublisher(TenantRegistry tenants, AuditTreeHeads heads, IOptions<AuditOptions> options, ILogger<TreeHeadPublisher> logger)
    : PeriodicWork(options.Value.TreeHeadInterval, logger)
{
    protected override async Task TickAsync(CancellationToken ct)
    {
        foreach (Tenant tenant in await tenants.ListAsync(ct))
        {
            try
            {
                await heads.SignAsync(tenant.Id, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                LogSignFailed(e, tenant.Id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signing the audit tree head of {Tenant} failed; the next interval tries again")]
    private partial void LogSignFailed(Exception e, string tenant);
}
