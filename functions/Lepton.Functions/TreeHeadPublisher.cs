using Lepton.Audit;
using Lepton.Tenancy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Signs a new tree head for every tenant whose audit log grew, once per <see cref="AuditOptions.TreeHeadInterval"/>
/// (and witnesses it in the partners' chains). Failures are logged and retried at the next tick.
/// </summary>
public sealed partial class TreeHeadPublisher(TenantRegistry tenants, AuditTreeHeads heads, IOptions<AuditOptions> options, ILogger<TreeHeadPublisher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TreeHeadInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (Tenant tenant in await ListAsync(stoppingToken))
                {
                    try
                    {
                        await heads.SignAsync(tenant.Id, stoppingToken);
                    }
                    catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                    {
                        LogSignFailed(e, tenant.Id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<IReadOnlyList<Tenant>> ListAsync(CancellationToken ct)
    {
        try
        {
            return await tenants.ListAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogSignFailed(e, "*");
            return [];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signing the audit tree head of {Tenant} failed; the next interval tries again")]
    private partial void LogSignFailed(Exception e, string tenant);
}
