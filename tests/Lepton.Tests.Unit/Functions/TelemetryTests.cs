using Lepton.Functions;
using Lepton.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Lepton.Tests.Unit.Functions;

public sealed class TelemetryTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"lepton-trace-{Guid.NewGuid():N}.jsonl");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void AddLeptonTelemetry_TraceFile_WritesEachStepOfARunAsAChildOfTheWebhooksSpan()
    {
        // Arrange
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Lepton:Telemetry:TraceFile"] = _file }).Build();
        using ServiceProvider services = new ServiceCollection().AddLogging().AddLeptonTelemetry(configuration).BuildServiceProvider();
        using TracerProvider tracing = services.GetRequiredService<TracerProvider>();

        // Act: the webhook's span, and a step started later from the traceparent the run carried
        string? traceParent;
        using (System.Diagnostics.Activity? webhook = LeptonTelemetry.Source.StartActivity("ingest.webhook"))
        {
            traceParent = webhook?.Id;
        }

        using (LeptonTelemetry.StartStep("ingest.analyze", traceParent, "acme", "ingest-1"))
        {
        }

        tracing.ForceFlush();

        // Assert
        string[] lines = File.ReadAllLines(_file);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"lepton.run\":\"ingest-1\"", lines[1]);
        Assert.Contains(traceParent!.Split('-')[1], lines[1]);
    }

    [Fact]
    public void AddLeptonTelemetry_NoExporterConfigured_RegistersNoListener()
    {
        using ServiceProvider services = new ServiceCollection().AddLogging().AddLeptonTelemetry(new ConfigurationBuilder().Build()).BuildServiceProvider();

        Assert.Null(services.GetService<TracerProvider>());
    }
}
