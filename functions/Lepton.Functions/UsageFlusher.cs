using Lepton.Audit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Writes prediction usage to the audit log every interval, and once more at shutdown. A flush that fails is logged
/// and tried again at the next tick (the meter keeps the counts it could not write): a background service that
/// throws would stop the whole host.
/// </summary>
public sealed partial class UsageFlusher(UsageMeter meter, IOptions<AuditOptions> options, ILogger<UsageFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.UsageFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try
        {
            await meter.FlushAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogFlushFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing prediction usage to the audit log failed; the next flush tries again")]
    private partial void LogFlushFailed(Exception e);
}
