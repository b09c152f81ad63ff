using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lepton.Audit;

/// <summary>"Lepton:Audit".</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Lepton:Audit";

    /// <summary>Prediction usage is written to the audit log once per this interval per key, not once per request.</summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Counts predictions per tenant and key in memory; <see cref="UsageFlusher"/> writes the sums to the audit log.</summary>
public sealed class UsageMeter(AuditLog audit, TimeProvider time)
{
    private sealed class Counter
    {
        public long Requests;
        public long Rows;
    }

    private ConcurrentDictionary<(string Tenant, string Key), Counter> _counters = new();

    public void Record(string tenant, string keyId, int rows)
    {
        Counter counter = _counters.GetOrAdd((tenant, keyId), _ => new Counter());
        Interlocked.Increment(ref counter.Requests);
        Interlocked.Add(ref counter.Rows, rows);
    }

    public async Task FlushAsync(CancellationToken ct = default)
    {
        // Swap in a fresh table; the old one is complete once in-flight increments on it finish (they are single instructions).
        ConcurrentDictionary<(string Tenant, string Key), Counter> full = Interlocked.Exchange(ref _counters, new());
        DateTimeOffset now = time.GetUtcNow();
        foreach (((string tenant, string key), Counter counter) in full)
        {
            await audit.AppendAsync(tenant, $"{tenant}/key:{key}", "prediction.usage", $"{tenant}/models",
                $"{counter.Requests} requests, {counter.Rows} rows until {now:O}", ct: ct);
        }
    }
}

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
