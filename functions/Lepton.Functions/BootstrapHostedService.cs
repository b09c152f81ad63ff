using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lepton.Functions;

/// <summary>Creates the registry tables at start-up; retries while storage is still coming up instead of failing the host.</summary>
public sealed partial class BootstrapHostedService(PlatformBootstrap bootstrap, ILogger<BootstrapHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (int attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await bootstrap.EnsureCreatedAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && Lepton.Storage.StorageFaults.IsOutage(e))
            {
                LogRetry(attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform storage not ready (attempt {Attempt}): {Reason}")]
    private partial void LogRetry(int attempt, string reason);
}
