using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lepton.Telemetry;

/// <summary>
/// The platform's traces and metrics ("Lepton"). A run's trace context travels in its durable input (a W3C traceparent),
/// so an upload's trace goes from the webhook through each ingest activity, whichever worker runs it and however late.
/// </summary>
public static class LeptonTelemetry
{
    public const string Name = "Lepton";
    public const string TenantTag = "lepton.tenant", RunTag = "lepton.run", ModelTag = "lepton.model";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Predictions = Meter.CreateCounter<long>("lepton.predictions", "{request}", "Prediction requests answered.");
    public static readonly Counter<long> PredictedRows = Meter.CreateCounter<long>("lepton.predictions.rows", "{row}", "Rows scored by prediction requests.");
    public static readonly Histogram<double> PredictionLatency = Meter.CreateHistogram<double>("lepton.predictions.duration", "ms", "Time to answer a prediction request.");
    public static readonly Counter<long> RowsIngested = Meter.CreateCounter<long>("lepton.ingest.rows", "{row}", "Rows published by ingest runs.");
    public static readonly Counter<long> FilesRejected = Meter.CreateCounter<long>("lepton.ingest.rejected", "{file}", "Files rejected with a report.");
    public static readonly Counter<long> FoldsTrained = Meter.CreateCounter<long>("lepton.training.folds", "{fold}", "Cross-validation folds evaluated.");
    public static readonly Counter<long> RoundsAggregated = Meter.CreateCounter<long>("lepton.federated.rounds", "{round}", "Federated rounds aggregated.");
    public static readonly Counter<long> Throttled = Meter.CreateCounter<long>("lepton.requests.throttled", "{request}", "Requests answered 429.");

    /// <summary>A span of a run's step, a child of the run's trace when the input carried one.</summary>
    public static Activity? StartStep(string name, string? traceParent, string tenant, string runId)
    {
        ActivityContext parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, out ActivityContext parsed) ? parsed : default;
        Activity? activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag(TenantTag, tenant);
        activity?.SetTag(RunTag, runId);
        return activity;
    }
}
