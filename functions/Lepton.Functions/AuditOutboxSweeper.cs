using Lepton.Audit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Appends the audit entries of changes whose own append did not happen (a crash or a storage failure right after the
/// commit): see <see cref="AuditOutbox"/>. Every instance sweeps; the entries' idempotency keys make that harmless.
/// </summary>
public sealed partial class AuditOutboxSweeper(AuditOutbox outbox, IOptions<AuditOptions> options, ILogger<AuditOutboxSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.OutboxSweepInterval);
        try
        {
            do
            {
                try
                {
                    if (await outbox.DeliverPendingAsync(options.Value.OutboxGracePeriod, stoppingToken) is > 0 and int delivered)
                    {
                        LogDelivered(delivered);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Appended {Count} audit entries that their changes still owed")]
    private partial void LogDelivered(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping the audit outbox failed; the next interval tries again")]
    private partial void LogSweepFailed(Exception e);
}
