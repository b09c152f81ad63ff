using Lepton.Audit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Appends the audit entries of changes whose own append did not happen (a crash or a storage failure right after the
/// commit): see <see cref="AuditOutbox"/>. Every instance sweeps; the entries' idempotency keys make that harmless.
/// </summary>
public sealed partial class AuditOutboxSweeper(AuditOutbox outbox, IOptions<AuditOptions> options, ILogger<AuditOutboxSweeper> logger)
    : PeriodicWork(options.Value.OutboxSweepInterval, logger)
{
    protected override bool TickAtStart => true;

    protected override async Task TickAsync(CancellationToken ct)
    {
        if (await outbox.DeliverPendingAsync(options.Value.OutboxGracePeriod, ct) is > 0 and int delivered)
        {
            LogDelivered(delivered);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Appended {Count} audit entries that their changes still owed")]
    private partial void LogDelivered(int count);
}
