using System.Text;
using Lepton.Errors;
using nietras.SeparatedValues;

namespace Lepton.Training;

/// <summary>
/// k-fold assignment with a fixed seed: stratified by label for classification (every class spread over every fold),
/// a seeded shuffle for regression. Deterministic: the same rows, folds and seed give the same folds on any machine.
/// </summary>
public static class FoldSplitter
{
    public static int[] Assign(IReadOnlyList<string> labels, int folds, int seed, bool stratify)
    {
        var random = new Random(seed);
        int[] assignment = new int[labels.Count];
        IEnumerable<int[]> groups = stratify
            ? labels.Select((label, row) => (label, row)).GroupBy(x => x.label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Select(x => x.row).ToArray())
            : [Enumerable.Range(0, labels.Count).ToArray()];
        int next = 0;
        foreach (int[] rows in groups)
        {
            random.Shuffle(rows);
            foreach (int row in rows)
            {
                // Continuing the round-robin across classes keeps fold sizes within one row of each other.
                assignment[row] = next++ % folds;
            }
        }

        return assignment;
    }

    /// <summary>Refuses data that cannot be cross-validated, saying why.</summary>
    public static void Validate(IReadOnlyList<string> labels, int folds, string task, string label)
    {
        if (folds is < 2 or > 20)
        {
            throw LeptonException.BadRequest("'folds' must be between 2 and 20.");
        }

        if (labels.Count < folds * 2)
        {
            throw LeptonException.BadRequest($"{labels.Count} rows are too few for {folds} folds; at least {folds * 2} are needed"
                + (labels.Count >= 4 ? $": ask for 'folds': {labels.Count / 2}, or add rows." : ": add rows."));
        }

        if (task == MlTasks.Regression)
        {
            return;
        }

        var classes = labels.GroupBy(l => l, StringComparer.Ordinal).Select(g => (Class: g.Key, Count: g.Count())).OrderBy(c => c.Count).ToList();
        if (classes.Count < 2)
        {
            throw LeptonException.BadRequest($"The label '{label}' has only one class ('{classes[0].Class}'); a classifier needs at least two.");
        }

        if (task == MlTasks.Binary && classes.Count > 2)
        {
            throw LeptonException.BadRequest($"The label '{label}' has {classes.Count} classes; binary needs exactly two (use task multiclass).");
        }

        // A multiclass label may have classes rarer than the folds (real data often does): such a class is tested in as many
        // folds as it has rows, and the fold models know every class, so a class missing from a fold's training rows counts
        // as an error where it is tested (scikit-learn's StratifiedKFold does the same, with a warning). Binary stays strict:
        // a fold without the positive class has no AUC, the binary selection metric.
        if (task == MlTasks.Binary && classes[0].Count < folds)
        {
            (string rare, int count) = classes[0];
            throw LeptonException.BadRequest($"Class '{rare}' of '{label}' has {count} row{(count == 1 ? "" : "s")}; {folds} stratified folds need at least {folds} per class"
                + (count >= 2 ? $": ask for 'folds': {count}, or add rows of '{rare}'." : $": add rows of '{rare}'."));
        }
    }

    public static List<string> ReadColumn(string csvPath, string column)
    {
        using SepReader reader = Sep.Reader(o => o with { Unescape = true }).FromFile(csvPath);
        int index = reader.Header.IndexOf(column);
        var values = new List<string>();
        foreach (SepReader.Row row in reader)
        {
            values.Add(row[index].ToString());
        }

        return values;
    }

    /// <summary>The two files of fold f: its training rows (every other fold) and its test rows.</summary>
    public static (string Train, string Test) FoldFiles(string directory, int fold) =>
        (Path.Combine(directory, $"fold{fold}.train.csv"), Path.Combine(directory, $"fold{fold}.test.csv"));

    /// <summary>Writes every fold's two files in one pass over the data.</summary>
    public static void WriteFolds(string csvPath, int[] assignment, int folds, string directory) =>
        Write(csvPath, assignment, Enumerable.Range(0, folds).ToArray(), directory);

    /// <summary>Writes fold f's two files, unless they are there already.</summary>
    public static (string Train, string Test) WriteFold(string csvPath, int[] assignment, int fold, string directory)
    {
        (string train, string test) = FoldFiles(directory, fold);
        if (!File.Exists(train) || !File.Exists(test))
        {
            Write(csvPath, assignment, [fold], directory);
        }

        return (train, test);
    }

    /// <summary>
    /// The listed folds' files in one pass over the data, each through a temporary file: a reader never sees a partial
    /// file, and where several writers prepare the same fold at once, the first complete file wins (they are the same).
    /// </summary>
    private static void Write(string csvPath, int[] assignment, int[] folds, string directory)
    {
        string header = File.ReadLines(csvPath).First();
        var writers = new List<(StreamWriter Train, StreamWriter Test)>(folds.Length);
        var moves = new List<(string Temp, string Final)>(2 * folds.Length);
        try
        {
            foreach (int fold in folds)
            {
                (string train, string test) = FoldFiles(directory, fold);
                (string trainTemp, string testTemp) = (train + "." + Guid.NewGuid().ToString("N"), test + "." + Guid.NewGuid().ToString("N"));
                moves.Add((trainTemp, train));
                moves.Add((testTemp, test));
                writers.Add((new StreamWriter(trainTemp, false, new UTF8Encoding(false)), new StreamWriter(testTemp, false, new UTF8Encoding(false))));
                writers[^1].Train.WriteLine(header);
                writers[^1].Test.WriteLine(header);
            }

            using SepReader reader = Sep.Reader().FromFile(csvPath);
            int row = 0;
            foreach (SepReader.Row r in reader)
            {
                int testFold = assignment[row++];
                for (int w = 0; w < folds.Length; w++)
                {
                    (folds[w] == testFold ? writers[w].Test : writers[w].Train).WriteLine(r.Span);
                }
            }
        }
        finally
        {
            foreach ((StreamWriter train, StreamWriter test) in writers)
            {
                train.Dispose();
                test.Dispose();
            }
        }

        foreach ((string temp, string final) in moves)
        {
            File.Move(temp, final, overwrite: true);
        }
    }
}
