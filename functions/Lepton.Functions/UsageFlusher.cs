using Lepton.Audit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>Writes prediction usage to the audit log every interval, and once more at shutdown.</summary>
public sealed class UsageFlusher(UsageMeter meter, IOptions<AuditOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.UsageFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await meter.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await meter.FlushAsync(cancellationToken);
    }
}
