namespace Lepton.Orchestrations.Ingestion;

// Activity names of the ingest workflow. Each is an empty marker type so the orchestrator calls it by nameof; the
// activity's [Function] method in the function app calls IngestPipeline directly (one hop, see docs/design.md).

/// <summary>Wait for one of the tenant's ingest slots (fair shares of capacity between tenants).</summary>
public static class ReserveIngestSlot;

/// <summary>Give the slot back when the run ends.</summary>
public static class ReleaseIngestSlot;

/// <summary>Pass one: validate, infer the schema, profile, plan the cleaning; the analysis is stored as a blob.</summary>
public static class AnalyzeSource;

/// <summary>Pass two: write the cleaned rows to a reserved, not yet visible version.</summary>
public static class CleanSource;

/// <summary>Write schema, profile, quality report and lineage, then make the version visible.</summary>
public static class PublishDatasetVersion;

/// <summary>Write the readable report and a copy of the file to the rejected container.</summary>
public static class RejectSource;
