using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lepton.Configuration;
using Lepton.Ingestion;
using nietras.SeparatedValues;

// Preprocessing throughput against the parser alone, on a generated numeric CSV.
// Usage: dotnet run -c Release --project tests/Lepton.Benchmarks -- ingest [--mb 1024] [--keep]
if (args is ["scoring", ..])
{
    // Further arguments go to BenchmarkDotNet (--filter "*SingleRow*" runs one-row calls only).
    BenchmarkDotNet.Running.BenchmarkRunner.Run<Lepton.Benchmarks.ScoringBenchmarks>(args: args[1..]);
    return 0;
}

if (args is ["serving", ..])
{
    return await Lepton.Benchmarks.Serving.RunAsync(args.SkipWhile(a => a != "--seconds").Skip(1).Select(int.Parse).FirstOrDefault(10));
}

if (args is ["federated", ..])
{
    return await Lepton.Benchmarks.FederatedBench.RunAsync(args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(30));
}

if (args is ["network", ..])
{
    int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
    return Lepton.Benchmarks.NetworkSpeed.Run(Option("--rows", 100_000), Option("--threads", 2), Option("--epochs", 3), args.Contains("--ilgpu"));
}

if (args is ["batch", ..])
{
    return await Lepton.Benchmarks.BatchBench.RunAsync(args.SkipWhile(a => a != "--rows").Skip(1).Select(int.Parse).FirstOrDefault(1_000_000));
}

if (args is ["gpu", ..])
{
    int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
    return Lepton.Benchmarks.GpuCheck.Run(Option("--rows", 100_000), Option("--epochs", 2), args.Contains("--cpu-accelerator"));
}

if (args is ["contributions", ..])
{
    int[] sizes = args.SkipWhile(a => a != "--members").Skip(1).Select(s => s.Split(',').Select(int.Parse).ToArray()).FirstOrDefault([5, 8, 10]);
    return await Lepton.Benchmarks.ContributionBench.RunAsync(sizes, args.SkipWhile(a => a != "--seeds").Skip(1).Select(int.Parse).FirstOrDefault(5));
}

if (args is ["training", ..])
{
    int rows = args.SkipWhile(a => a != "--rows").Skip(1).Select(int.Parse).FirstOrDefault(100_000);
    int runs = args.SkipWhile(a => a != "--runs").Skip(1).Select(int.Parse).FirstOrDefault(4);
    string[]? candidates = args.SkipWhile(a => a != "--candidates").Skip(1).Select(c => c.Split(',')).FirstOrDefault();
    return await Lepton.Benchmarks.TrainingOverhead.RunAsync(rows, runs, candidates);
}

if (args is ["heavy", ..])
{
    int rows = args.SkipWhile(a => a != "--rows").Skip(1).Select(int.Parse).FirstOrDefault(20_000);
    return await Lepton.Benchmarks.TrainingOverhead.RunHeavyAsync(rows);
}

if (args is ["fanout", ..])
{
    int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
    return await Lepton.Benchmarks.FanOutBench.RunAsync(Option("--activities", 500), Option("--repeats", 3), args.Contains("--dev-host-only"));
}

if (args is ["quality", string file, string label, ..])
{
    string? foldsOut = args.SkipWhile(a => a != "--folds-out").Skip(1).FirstOrDefault();
    string? task = args.Length > 3 && !args[3].StartsWith("--", StringComparison.Ordinal) ? args[3] : null;
    string[]? only = args.SkipWhile(a => a != "--candidates").Skip(1).FirstOrDefault()?.Split(',');
    return Lepton.Benchmarks.Quality.Run(file, label, task, foldsOut, only);
}

if (args.Length == 0 || args[0] != "ingest")
{
    Console.WriteLine("usage: Lepton.Benchmarks ingest [--mb N] [--keep] | quality FILE LABEL [TASK] [--folds-out FILE] [--candidates ID,ID] | training [--rows N] [--runs N] [--candidates ID,ID] | heavy [--rows N] | serving [--seconds N] | scoring | batch [--rows N] | contributions [--members 5,8,10] [--seeds N] | network [--rows N] [--threads N] [--ilgpu] | gpu [--rows N] [--epochs N] [--cpu-accelerator] | federated [--rounds N] | fanout [--activities N] [--repeats N] [--dev-host-only]");
    return 2;
}

int megabytes = args.SkipWhile(a => a != "--mb").Skip(1).Select(int.Parse).FirstOrDefault(1024);
bool keep = args.Contains("--keep");
string dir = Path.Combine(Path.GetTempPath(), "lepton-bench");
Directory.CreateDirectory(dir);
string source = Path.Combine(dir, $"numeric-{megabytes}mb.csv");
string output = Path.Combine(dir, "curated.csv");

if (!File.Exists(source) || new FileInfo(source).Length < megabytes * 1_000_000L)
{
    Console.WriteLine($"Generating {megabytes} MB of numeric CSV at {source} ...");
    Generate(source, megabytes * 1_000_000L);
}

long bytes = new FileInfo(source).Length;
double mb = bytes / 1_000_000.0;
Console.WriteLine($"Input: {mb:F0} MB, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

// 1. Parser alone: Sep splitting every row into fields, then the same while also parsing every field as a number.
var watch = Stopwatch.StartNew();
long fieldChars = 0;
using (var reader = Sep.Reader(o => o with { DisableColCountCheck = true }).FromFile(source))
{
    foreach (SepReader.Row row in reader)
    {
        for (int i = 0; i < row.ColCount; i++)
        {
            fieldChars += row[i].Span.Length;
        }
    }
}

double tokenizeSeconds = watch.Elapsed.TotalSeconds;
Console.WriteLine($"parser alone (Sep, fields only):      {tokenizeSeconds,7:F2} s  {mb / tokenizeSeconds,8:F1} MB/s");
watch.Restart();
long cells = 0;
double checksum = 0;
using (var reader = Sep.Reader(o => o with { DisableColCountCheck = true }).FromFile(source))
{
    foreach (SepReader.Row row in reader)
    {
        for (int i = 0; i < row.ColCount; i++)
        {
            if (double.TryParse(row[i].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                checksum += value;
            }

            cells++;
        }
    }
}

double parseSeconds = watch.Elapsed.TotalSeconds;
Console.WriteLine($"parser alone (Sep + double.TryParse): {parseSeconds,7:F2} s  {mb / parseSeconds,8:F1} MB/s  ({cells:N0} cells)");

// 2. Preprocessing: pass one (validate, infer, profile, plan) and pass two (clean, dedupe, impute, clip, write, profile).
var options = new IngestionOptions { MaxFileBytes = long.MaxValue };
watch.Restart();
SourceAnalysis analysis;
using (FileStream input = File.OpenRead(source))
{
    analysis = new SourceAnalyzer(options).Analyze(input, bytes, Path.GetFileName(source), new DatasetSpec(Label: "label"));
}

double analyzeSeconds = watch.Elapsed.TotalSeconds;
watch.Restart();
CleaningResult result;
using (FileStream input = File.OpenRead(source))
using (FileStream curated = File.Create(output))
{
    result = new DatasetCleaner().Clean(input, curated, analysis);
}

double cleanSeconds = watch.Elapsed.TotalSeconds;
double total = analyzeSeconds + cleanSeconds;
long peak = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"pass one (analyze + profile):         {analyzeSeconds,7:F2} s  {mb / analyzeSeconds,8:F1} MB/s");
Console.WriteLine($"pass two (clean + write + profile):    {cleanSeconds,7:F2} s  {mb / cleanSeconds,8:F1} MB/s");
Console.WriteLine($"preprocessing total:                  {total,7:F2} s  {mb / total,8:F1} MB/s  = {parseSeconds / total:P0} of parser+numbers speed, {tokenizeSeconds / total:P0} of fields-only speed");
Console.WriteLine($"peak working set: {peak / 1_048_576.0:F0} MB; rows in {result.RowsIn:N0}, out {result.RowsOut:N0}; rejected: {analysis.IsRejected}");
if (!keep)
{
    File.Delete(output);
}

return 0;

static void Generate(string path, long targetBytes)
{
    var random = new Random(12345);
    using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    writer.Write("id,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,label\n");
    var line = new StringBuilder(256);
    for (long id = 0; writer.BaseStream.Position < targetBytes; id++)
    {
        line.Clear().Append(id);
        for (int f = 0; f < 10; f++)
        {
            line.Append(',').Append((random.NextDouble() * 1000 - 500).ToString("F4", CultureInfo.InvariantCulture));
        }

        line.Append(',').Append(random.Next(2) == 0 ? "true" : "false").Append('\n');
        writer.Write(line);
    }
}
