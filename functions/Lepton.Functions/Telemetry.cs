using System.Diagnostics;
using System.Text.Json;
using Azure.Monitor.OpenTelemetry.Exporter;
using Lepton.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Lepton.Functions;

/// <summary>
/// OpenTelemetry for the function app and the dev host: the "Lepton" traces and metrics, exported to Azure Monitor
/// where APPLICATIONINSIGHTS_CONNECTION_STRING is set, to an OTLP collector where OTEL_EXPORTER_OTLP_ENDPOINT is, and —
/// locally, for tests and curious developers — as JSON lines to Lepton:Telemetry:TraceFile.
/// </summary>
public static class Telemetry
{
    public static IServiceCollection AddLeptonTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        string? connection = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        string? otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        string? file = configuration["Lepton:Telemetry:TraceFile"];
        if (string.IsNullOrEmpty(connection) && string.IsNullOrEmpty(otlp) && string.IsNullOrEmpty(file))
        {
            // Nowhere to send them: no listener at all, so the predict path creates no spans and records no measurements.
            return services;
        }

        OpenTelemetryBuilder builder = services.AddOpenTelemetry();
        builder.WithTracing(tracing =>
        {
            // A run's spans are recorded whatever the ambient request activity decided: a host's or ASP.NET Core's own
            // (unsampled) activity would otherwise make every span of the run unrecorded under a parent-based sampler.
            tracing.AddSource(LeptonTelemetry.Name).SetSampler(new AlwaysOnSampler());
            if (!string.IsNullOrEmpty(connection))
            {
                tracing.AddAzureMonitorTraceExporter(o => o.ConnectionString = connection);
            }

            if (!string.IsNullOrEmpty(otlp))
            {
                tracing.AddOtlpExporter();
            }

            if (!string.IsNullOrEmpty(file))
            {
                tracing.AddProcessor(new SimpleActivityExportProcessor(new JsonLinesExporter(file)));
            }
        });
        builder.WithMetrics(metrics =>
        {
            metrics.AddMeter(LeptonTelemetry.Name);
            if (!string.IsNullOrEmpty(connection))
            {
                metrics.AddAzureMonitorMetricExporter(o => o.ConnectionString = connection);
            }

            if (!string.IsNullOrEmpty(otlp))
            {
                metrics.AddOtlpExporter();
            }
        });
        return services;
    }

    /// <summary>Each finished span as one JSON line: trace, span, parent, name, duration and tags.</summary>
    private sealed class JsonLinesExporter(string path) : BaseExporter<Activity>
    {
        private readonly Lock _gate = new();

        public override ExportResult Export(in Batch<Activity> batch)
        {
            var lines = new List<string>();
            foreach (Activity activity in batch)
            {
                lines.Add(JsonSerializer.Serialize(new
                {
                    traceId = activity.TraceId.ToString(),
                    spanId = activity.SpanId.ToString(),
                    parentId = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToString(),
                    name = activity.DisplayName,
                    durationMs = activity.Duration.TotalMilliseconds,
                    tags = activity.TagObjects.ToDictionary(t => t.Key, t => t.Value?.ToString()),
                }));
            }

            lock (_gate)
            {
                File.AppendAllLines(path, lines);
            }

            return ExportResult.Success;
        }
    }
}
