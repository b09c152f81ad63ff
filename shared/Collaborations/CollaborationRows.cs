using System.Security.Cryptography;
using System.Text;
using Lepton.Security;
using Lepton.Storage;
using Lepton.Training;
using nietras.SeparatedValues;

namespace Lepton.Collaborations;

/// <summary>A member's rows for one run, as local files: the part that trains and the part held out for evaluation.</summary>
public sealed record MemberFiles(string Member, string TrainFile, string EvaluationFile, long TrainRows, long EvaluationRows);

/// <summary>
/// Reads members' granted rows for platform activities. Every call checks each member's grant for the purpose through
/// <see cref="AccessPolicy.AuthorizeCollaborationDataUseAsync"/> (audited in the owner's chain) before it touches the data,
/// and reads through that member's own tenant-scoped storage client. Rows stay on the worker's disk (immutable dataset
/// versions are downloaded once per process); only metrics, hashes and references leave an activity.
/// </summary>
public sealed class CollaborationRows(AccessPolicy policy, TenantStorageFactory tenants, LocalFileCache files)
{
    private string Root => Path.Combine(files.Root, "collaborations");

    /// <summary>
    /// The member's rows projected on the run's columns (features, then label) and split: rows of a dataset granted for both
    /// purposes are split by <paramref name="evaluationFraction"/> (stratified, seeded per member), rows granted for one
    /// purpose only serve that purpose.
    /// </summary>
    public async Task<MemberFiles> MemberFilesAsync(
        string collaboration, string runId, string member, IReadOnlyList<ContributedDataset> datasets, IReadOnlyList<string> features, string label,
        bool stratify, double evaluationFraction, int seed, bool train, bool evaluate, CancellationToken ct)
    {
        foreach (ContributedDataset d in datasets)
        {
            if (train && d.Purposes.Contains(Purposes.Train))
            {
                await policy.AuthorizeCollaborationDataUseAsync(collaboration, runId, member, d.Dataset, Purposes.Train, ct);
            }

            if (evaluate && d.Purposes.Contains(Purposes.Evaluate))
            {
                await policy.AuthorizeCollaborationDataUseAsync(collaboration, runId, member, d.Dataset, Purposes.Evaluate, ct);
            }
        }

        string key = Hash(string.Join('|', datasets.Select(d => $"{d.Dataset}@{d.Version}:{string.Join(',', d.Purposes)}")) + "|" + string.Join(',', features)
            + "|" + label + "|" + evaluationFraction.ToString("R") + "|" + seed + "|" + stratify);
        string directory = Path.Combine(Root, collaboration, member, key);
        string trainFile = Path.Combine(directory, "train.csv"), evaluationFile = Path.Combine(directory, "evaluation.csv");
        string countsFile = Path.Combine(directory, "counts.txt");
        await files.EnsureAsync(countsFile, async () =>
        {
            Directory.CreateDirectory(directory);
            var raw = new List<(ContributedDataset Dataset, string Path)>();
            foreach (ContributedDataset d in datasets)
            {
                raw.Add((d, await DownloadAsync(member, d, ct)));
            }

            (long trainRows, long evaluationRows) = Split(raw, features, label, stratify, evaluationFraction, SeedFor(seed, member), trainFile, evaluationFile);
            await File.WriteAllTextAsync(countsFile, $"{trainRows} {evaluationRows}", ct);
        }, ct, directory);

        long[] counts = (await File.ReadAllTextAsync(countsFile, ct)).Split(' ').Select(long.Parse).ToArray();
        return new MemberFiles(member, trainFile, evaluationFile, counts[0], counts[1]);
    }

    /// <summary>One file of the given members' training (or evaluation) rows, in plan order, cached by its content's inputs.</summary>
    public async Task<string> ConcatenateAsync(IReadOnlyList<string> sources, string header, CancellationToken ct)
    {
        string path = Path.Combine(Root, "concatenated", Hash(string.Join('|', sources)), "data.csv");
        await files.EnsureAsync(path, async () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temp = path + "." + Guid.NewGuid().ToString("N");
            await using (var output = new StreamWriter(temp, false, new UTF8Encoding(false)))
            {
                await output.WriteLineAsync(header);
                foreach (string file in sources)
                {
                    foreach (string line in File.ReadLines(file).Skip(1))
                    {
                        await output.WriteLineAsync(line);
                    }
                }
            }

            File.Move(temp, path, overwrite: true);
        }, ct);
        return path;
    }

    public static string HeaderFor(IReadOnlyList<string> features, string label) => string.Join(',', features.Append(label).Select(Escape));

    public static string Sha256OfFiles(IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string file in files)
        {
            foreach (string line in File.ReadLines(file).Skip(1))
            {
                hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private async Task<string> DownloadAsync(string member, ContributedDataset d, CancellationToken ct)
    {
        string path = Path.Combine(Root, "_raw", member, $"{d.Dataset}@{d.Version}.csv");
        await files.EnsureAsync(path, async () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            TenantStorage storage = await tenants.ForTenantAsync(member, ct);
            string temp = path + "." + Guid.NewGuid().ToString("N");
            await storage.Curated.GetBlobClient(d.DataBlob).DownloadToAsync(temp, ct);
            File.Move(temp, path, overwrite: true);
        }, ct);
        return path;
    }

    private static (long Train, long Evaluation) Split(
        IReadOnlyList<(ContributedDataset Dataset, string Path)> raw, IReadOnlyList<string> features, string label, bool stratify, double fraction, int seed,
        string trainFile, string evaluationFile)
    {
        string header = HeaderFor(features, label);
        string trainTemp = trainFile + "." + Guid.NewGuid().ToString("N"), evaluationTemp = evaluationFile + "." + Guid.NewGuid().ToString("N");
        long trainRows = 0, evaluationRows = 0;
        using (var trainOut = new StreamWriter(trainTemp, false, new UTF8Encoding(false)))
        using (var evaluationOut = new StreamWriter(evaluationTemp, false, new UTF8Encoding(false)))
        {
            trainOut.WriteLine(header);
            evaluationOut.WriteLine(header);
            foreach ((ContributedDataset dataset, string path) in raw)
            {
                List<string[]> rows = Project(path, features, label);
                bool canTrain = dataset.Purposes.Contains(Purposes.Train), canEvaluate = dataset.Purposes.Contains(Purposes.Evaluate);
                bool[] held = canTrain && canEvaluate
                    ? EvaluationSplit.Assign(rows.Select(r => r[^1]).ToList(), fraction, seed, stratify)
                    : Enumerable.Repeat(canEvaluate, rows.Count).ToArray();
                for (int i = 0; i < rows.Count; i++)
                {
                    string line = string.Join(',', rows[i].Select(Escape));
                    if (held[i])
                    {
                        evaluationOut.WriteLine(line);
                        evaluationRows++;
                    }
                    else
                    {
                        trainOut.WriteLine(line);
                        trainRows++;
                    }
                }
            }
        }

        File.Move(trainTemp, trainFile, overwrite: true);
        File.Move(evaluationTemp, evaluationFile, overwrite: true);
        return (trainRows, evaluationRows);
    }

    private static List<string[]> Project(string path, IReadOnlyList<string> features, string label)
    {
        using SepReader reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        int[] indexes = features.Append(label).Select(name => reader.Header.TryIndexOf(name, out int i)
            ? i
            : throw new InvalidDataException($"Column '{name}' is missing from a contributed dataset.")).ToArray();
        var rows = new List<string[]>();
        foreach (SepReader.Row row in reader)
        {
            string[] values = new string[indexes.Length];
            for (int i = 0; i < indexes.Length; i++)
            {
                values[i] = row[indexes[i]].ToString();
            }

            rows.Add(values);
        }

        return rows;
    }

    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>A per-member seed that does not depend on the process (string hash codes do).</summary>
    private static int SeedFor(int seed, string member) => seed ^ BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(member)), 0);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..20];
}

/// <summary>The fixed evaluation rows of one member: a seeded share of every class (or of all rows, for regression).</summary>
public static class EvaluationSplit
{
    public static bool[] Assign(IReadOnlyList<string> labels, double fraction, int seed, bool stratify)
    {
        var random = new Random(seed);
        bool[] held = new bool[labels.Count];
        IEnumerable<int[]> groups = stratify
            ? labels.Select((l, i) => (l, i)).GroupBy(x => x.l, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Select(x => x.i).ToArray())
            : [Enumerable.Range(0, labels.Count).ToArray()];
        foreach (int[] rows in groups)
        {
            random.Shuffle(rows);
            int take = (int)Math.Round(rows.Length * fraction, MidpointRounding.AwayFromZero);
            // A class with a single row stays in training: held out, it would teach nothing and judge little.
            take = rows.Length < 2 ? 0 : Math.Min(take, rows.Length - 1);
            foreach (int row in rows.Take(take))
            {
                held[row] = true;
            }
        }

        return held;
    }
}
