using Lepton.Datasets;
using Lepton.Ingestion;

namespace Lepton.Orchestrations.Ingestion;

/// <summary>Pass one: validate, infer the schema, profile, plan the cleaning.</summary>
public sealed class AnalyzeSource(IngestPipeline pipeline)
{
    public Task<SourceAnalysis> RunAsync(IngestRequest input, CancellationToken ct = default) => pipeline.AnalyzeAsync(input, ct);
}

/// <summary>Pass two: write the cleaned rows to a reserved, not yet visible version.</summary>
public sealed class CleanSource(IngestPipeline pipeline)
{
    public Task<CleanedVersion> RunAsync(CleanRequest input, CancellationToken ct = default) => pipeline.CleanAsync(input, ct);
}

/// <summary>Write schema, profile, quality report and lineage, then make the version visible.</summary>
public sealed class PublishDatasetVersion(IngestPipeline pipeline)
{
    public Task<DatasetVersionRecord> RunAsync(PublishRequest input, CancellationToken ct = default) => pipeline.PublishAsync(input, ct);
}

/// <summary>Write the readable report and a copy of the file to the rejected container.</summary>
public sealed class RejectSource(IngestPipeline pipeline)
{
    public Task<string> RunAsync(RejectRequest input, CancellationToken ct = default) => pipeline.RejectAsync(input, ct);
}
