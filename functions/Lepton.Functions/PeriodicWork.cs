using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lepton.Functions;

/// <summary>
/// Work done once per interval for as long as the host runs. A tick that fails is logged and the next one tries again:
/// an exception escaping a background service would stop the whole host.
/// </summary>
public abstract partial class PeriodicWork(TimeSpan interval, ILogger logger) : BackgroundService
{
    /// <summary>Whether the first tick comes at start-up rather than after one interval.</summary>
    protected virtual bool TickAtStart => false;

    protected abstract Task TickAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            if (TickAtStart)
            {
                await TickSafelyAsync(stoppingToken);
            }

            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TickSafelyAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    protected async Task TickSafelyAsync(CancellationToken ct)
    {
        try
        {
            await TickAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogTickFailed(logger, e, GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Work} failed; the next interval tries again")]
    private static partial void LogTickFailed(ILogger logger, Exception e, string work);
}
