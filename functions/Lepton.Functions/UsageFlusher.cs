using Lepton.Audit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Functions;

/// <summary>
/// Writes prediction usage to the audit log every interval, and once more at shutdown. The meter keeps the counts it
/// could not write, so a failed flush loses nothing.
/// </summary>
public sealed class UsageFlusher(UsageMeter meter, IOptions<AuditOptions> options, ILogger<UsageFlusher> logger)
    : PeriodicWork(options.Value.UsageFlushInterval, logger)
{
    protected override Task TickAsync(CancellationToken ct) => meter.FlushAsync(ct);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await TickSafelyAsync(cancellationToken);
    }
}
