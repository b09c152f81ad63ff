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
        // A batch-scoring chunk as the planning pass stages it: the header without the label, then 25,000 rows.
        string[] inputs = header.Where(h => h != "malignant").ToArray();
        int[] keep = inputs.Select(h => Array.IndexOf(header, h)).ToArray();
        var staged = new System.Text.StringBuilder(string.Join(',', inputs)).Append('\n');
        for (int i = 0; i < ChunkRows; i++)
        {
            string[] cells = lines[1 + (i % (lines.Length - 1))].Split(',');
            staged.AppendJoin(',', keep.Select(k => cells[k])).Append('\n');
        }

        _staged = System.Text.Encoding.UTF8.GetBytes(staged.ToString());
        _model = new ModelVersion("m", 1, "production", MlTasks.Binary, "auc", 0.99, "malignant", plan.Candidates[0], [], [], "blob", "sha", [], "", ["false", "true"],
            default, "run", "");
        Directory.Delete(work, recursive: true);
    }

    private const int ChunkRows = 25_000;
    private ScoringBatch _oneBatch = null!;
    private byte[] _staged = null!;
    private ModelVersion _model = null!;

    /// <summary>What the predict endpoint does: columns already typed (from JSON numbers), one run.</summary>
    [Benchmark]
    public int SingleRow() => _scorer.Score(_oneBatch).Count;

    /// <summary>From raw text cells (batch scoring, parity check): parsing included.</summary>
    [Benchmark]
    public int SingleRowFromText() => _scorer.Score(_one).Count;

    [Benchmark]
    public int ThousandRows() => _scorer.Score(_thousand).Count;

    /// <summary>
    /// A batch-scoring chunk activity's work between download and upload: read the chunk, score it, write the output text
    /// (encoded, into a stream that keeps nothing: the activity's pooled buffer is not part of this).
    /// </summary>
    [Benchmark]
    public void ChunkOf25000Rows()
    {
        using var text = new StreamWriter(Stream.Null, new System.Text.UTF8Encoding(false), 1 << 16);
        Lepton.Prediction.BatchScoring.ScoreChunkText(_scorer, _model, _staged, ChunkRows, writeHeader: true, text);
    }

    [GlobalCleanup]
    public void Cleanup() => _scorer.Dispose();
}
