using BenchmarkDotNet.Attributes;
using Lepton.Ingestion;
using Lepton.Training;

namespace Lepton.Benchmarks;

/// <summary>In-process ONNX Runtime scoring of the logistic-regression model trained on the breast-cancer samples.</summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private OnnxScorer _scorer = null!;
    private IReadOnlyList<IReadOnlyDictionary<string, string?>> _one = null!;
    private IReadOnlyList<IReadOnlyDictionary<string, string?>> _thousand = null!;

    [GlobalSetup]
    public void Setup()
    {
        string work = Directory.CreateTempSubdirectory("lepton-bench-scoring").FullName;
        string source = Path.Combine(BenchHost.Repo, "samples", "breast_cancer_hospital_a.csv");
        string curated = Path.Combine(work, "curated.csv");
        SourceAnalysis analysis = LocalCuration.Curate(source, curated, new DatasetSpec(Label: "malignant")).Analysis;

        var plan = new TrainingPlan(new TrainRequest("b", "m", ["d"], "malignant", "binary", null, 5, null, "r"), [], analysis.Schema!, "malignant", MlTasks.Binary,
            "auc", 5, 42, 0, CandidateCatalog.For(MlTasks.Binary));
        _scorer = new OnnxScorer(TrainingEngine.TrainFinal(plan, plan.Candidates.First(c => c.Id == "lbfgs-lr-l2-0.1"), curated, work).Onnx);
        string[] lines = File.ReadAllLines(curated);
        string[] header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => (IReadOnlyDictionary<string, string?>)header.Zip(l.Split(',')).Where(p => p.First != "malignant")
            .ToDictionary(p => p.First, p => (string?)p.Second)).ToList();
        _one = rows.Take(1).ToList();
        _thousand = Enumerable.Range(0, 1000).Select(i => rows[i % rows.Count]).ToList();
        _oneBatch = _scorer.NewBatch(1);
        for (int i = 0; i < _oneBatch.Inputs.Count; i++)
        {
            _oneBatch.Floats(i)[0] = float.Parse(rows[0][_oneBatch.Inputs[i].Name]!, System.Globalization.CultureInfo.InvariantCulture);
        }
        Directory.Delete(work, recursive: true);
    }

    private ScoringBatch _oneBatch = null!;

    /// <summary>What the predict endpoint does: columns already typed (from JSON numbers), one run.</summary>
    [Benchmark]
    public int SingleRow() => _scorer.Score(_oneBatch).Count;

    /// <summary>From raw text cells (batch scoring, parity check): parsing included.</summary>
    [Benchmark]
    public int SingleRowFromText() => _scorer.Score(_one).Count;

    [Benchmark]
    public int ThousandRows() => _scorer.Score(_thousand).Count;

    [GlobalCleanup]
    public void Cleanup() => _scorer.Dispose();
}
