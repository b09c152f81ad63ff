using Lepton.Configuration;

namespace Lepton.Ingestion;

/// <summary>
/// Both preprocessing passes on local files, as the ingest activities run them on blobs. A helper of the tests and
/// benchmarks (compiled into them), not of the platform.
/// </summary>
public static class LocalCuration
{
    public static (SourceAnalysis Analysis, CleaningResult? Cleaning) Curate(string source, string output, DatasetSpec? spec, IngestionOptions? options = null)
    {
        long length = new FileInfo(source).Length;
        SourceAnalysis analysis;
        using (FileStream input = File.OpenRead(source))
        {
            analysis = new SourceAnalyzer(options ?? new IngestionOptions()).Analyze(input, length, Path.GetFileName(source), spec);
        }

        if (analysis.IsRejected)
        {
            return (analysis, null);
        }

        using FileStream again = File.OpenRead(source);
        using FileStream curated = File.Create(output);
        return (analysis, new DatasetCleaner().Clean(again, curated, analysis));
    }
}
