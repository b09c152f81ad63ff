using System.Diagnostics.Metrics;

namespace Lepton.DevHost.Benchmark;

/// <summary>
/// The host's own view of request latency for the serving benchmark (<c>--benchmark-endpoint</c> only): ASP.NET Core's
/// <c>http.server.request.duration</c> for one route, recorded between a start and a read. A load generator on the same
/// cores adds its own scheduling to every latency it measures; this is what the server itself took, from the request
/// read to the response written.
/// </summary>
public sealed class ServerLatency : IDisposable
{
    private const string HostingMeter = "Microsoft.AspNetCore.Hosting", Duration = "http.server.request.duration", RouteTag = "http.route";

    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private List<double> _milliseconds = [];
    private string? _route;
    private Instrument? _duration;

    public ServerLatency()
    {
        // Enabled only while recording: with no listener the hosting layer skips measuring, so the throughput runs of the
        // benchmark pay nothing for this.
        _listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == HostingMeter && instrument.Name == Duration)
            {
                _duration = instrument;
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.Start();
    }

    /// <summary>Starts recording the requests of one route template (e.g. <c>/api/tenants/{tenant}/models/{model}/predict</c>).</summary>
    public void Start(string route)
    {
        lock (_gate)
        {
            (_route, _milliseconds) = (route, []);
        }

        if (_duration is { } duration)
        {
            _listener.EnableMeasurementEvents(duration);
        }
    }

    /// <summary>Percentiles of what was recorded since <see cref="Start"/>, in milliseconds; recording stops.</summary>
    public LatencySummary Read()
    {
        if (_duration is { } duration)
        {
            _listener.DisableMeasurementEvents(duration);
        }

        double[] sorted;
        lock (_gate)
        {
            sorted = [.. _milliseconds];
        }

        Array.Sort(sorted);
        double At(double share) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * share))];
        return new LatencySummary(sorted.Length, At(0.5), At(0.95), At(0.99));
    }

    public void Dispose() => _listener.Dispose();

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == RouteTag && tag.Value as string is { } route)
            {
                lock (_gate)
                {
                    if (route == _route)
                    {
                        _milliseconds.Add(seconds * 1000);
                    }
                }

                return;
            }
        }
    }
}

public sealed record LatencySummary(int Requests, double P50, double P95, double P99);
