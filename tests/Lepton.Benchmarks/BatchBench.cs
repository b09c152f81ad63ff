using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace Lepton.Benchmarks;

/// <summary>
/// Batch scoring end to end through a Release dev host: a logistic regression trained on the breast-cancer sample, then
/// files of 100,000 to N rows (the sample's rows repeated, label dropped) uploaded to predictions/in/&lt;model&gt;/ and
/// timed from the end of the upload until the scored file is in predictions/out/ — planning pass, chunk activities,
/// commit. Two sizes show whether the time grows linearly with the rows; the larger is scored twice (first and warm run).
/// Usage: batch [--rows 1000000].
/// </summary>
public static class BatchBench
{
    public static async Task<int> RunAsync(int maxRows)
    {
        string work = Directory.CreateTempSubdirectory("lepton-bench-batch").FullName;
        try
        {
            string[] a = File.ReadAllLines(Path.Combine(BenchHost.Repo, "samples", "breast_cancer_hospital_a.csv"));
            string[] b = File.ReadAllLines(Path.Combine(BenchHost.Repo, "samples", "breast_cancer_hospital_b.csv"));
            string state = Path.Combine(work, "state");
            await using BenchHost host = await BenchHost.StartAsync(state);
            JsonNode tenant = await host.SendAsync(HttpMethod.Post, "/api/tenants", host.AdminKey, new { id = "bench", name = "bench" });
            string key = tenant["apiKey"]!.GetValue<string>();
            BlobContainerClient predictions = TenantBlobs(state, tenant["storageAccount"]!.GetValue<string>()).GetBlobContainerClient("predictions");
            await host.UploadAsync(key, "bench", "bc", "dataset.json", Encoding.UTF8.GetBytes("{\"label\": \"malignant\", \"task\": \"binary\"}"));
            await host.UploadAsync(key, "bench", "bc", "bc.csv", Encoding.UTF8.GetBytes(string.Join('\n', a.Concat(b.Skip(1))) + "\n"));
            await host.WaitForDatasetAsync(key, "bench", "bc");
            JsonNode run = await host.SendAsync(HttpMethod.Post, "/api/tenants/bench/models", key,
                new { name = "bc-lr", datasets = new[] { "bc" }, folds = 2, candidates = new[] { "lbfgs-lr-l2-0.1" } });
            await host.WaitForRunAsync(key, run["runId"]!.GetValue<string>());

            int label = Array.IndexOf(a[0].Split(','), "malignant");
            string[] rows = a.Skip(1).Concat(b.Skip(1)).Select(line => string.Join(',', line.Split(',').Where((_, i) => i != label))).ToArray();
            string header = string.Join(',', a[0].Split(',').Where((_, i) => i != label));
            Console.WriteLine($"Batch scoring, logistic regression on {header.Split(',').Length} inputs, Release dev host, {Environment.ProcessorCount} cores");
            Console.WriteLine("| rows | file | upload | upload → all chunks staged | upload → scored file | rows/s |");
            Console.WriteLine("|---|---|---|---|---|---|");
            // The large file twice: the first run of a fresh host also compiles the batch path's code, the second shows
            // the host as it runs once warm (as the serving and training benchmarks report both).
            foreach ((int size, string again) in new[] { (maxRows / 10, ""), (maxRows, ""), (maxRows, " (again)") })
            {
                byte[] file = Generate(header, rows, size);
                string name = $"rows-{size}{(again.Length > 0 ? "-again" : "")}.csv";
                var upload = Stopwatch.StartNew();
                await host.UploadAsync(key, "bench", null, name, file, model: "bc-lr");
                TimeSpan uploaded = upload.Elapsed;
                var scoring = Stopwatch.StartNew();
                BlobClient output = predictions.GetBlobClient($"out/bc-lr/{name}"), report = predictions.GetBlobClient($"out/bc-lr/{name}.report.txt");
                int perChunk = Lepton.Prediction.BatchScoring.RowsPerChunk(header.Split(',').Length);
                int chunks = (size + perChunk - 1) / perChunk;
                double? staged = null;
                while (!(await output.ExistsAsync()).Value)
                {
                    // The planning pass stages the file as chunk blobs under work/<run>/ before any is scored.
                    if (staged is null && await CountAsync(predictions, "work/") >= chunks)
                    {
                        staged = scoring.Elapsed.TotalSeconds;
                    }

                    if ((await report.ExistsAsync()).Value)
                    {
                        throw new InvalidOperationException((await report.DownloadContentAsync()).Value.Content.ToString());
                    }

                    await Task.Delay(50);
                }

                double seconds = scoring.Elapsed.TotalSeconds;
                long lines = await CountLinesAsync(output);
                if (lines != size + 1)
                {
                    throw new InvalidOperationException($"The scored file has {lines} lines; expected {size + 1}.");
                }

                Console.WriteLine($"| {size:N0}{again} | {file.Length / 1e6:F0} MB | {uploaded.TotalSeconds:F1} s | {(staged is { } s ? $"{s:F1} s" : "n/a")} | {seconds:F1} s | {size / seconds:N0} |");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static byte[] Generate(string header, string[] rows, int size)
    {
        var text = new StringBuilder(header).Append('\n');
        for (int i = 0; i < size; i++)
        {
            text.Append(rows[i % rows.Length]).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static async Task<int> CountAsync(BlobContainerClient container, string prefix)
    {
        int count = 0;
        await foreach (Azure.Storage.Blobs.Models.BlobItem _ in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default))
        {
            count++;
        }

        return count;
    }

    private static async Task<long> CountLinesAsync(BlobClient blob)
    {
        await using Stream stream = await blob.OpenReadAsync();
        using var reader = new StreamReader(stream);
        long lines = 0;
        while (await reader.ReadLineAsync() is not null)
        {
            lines++;
        }

        return lines;
    }

    /// <summary>The tenant's account on the host's Azurite, from the devhost.json the host writes into its state folder.</summary>
    private static BlobServiceClient TenantBlobs(string state, string account)
    {
        using JsonDocument devhost = JsonDocument.Parse(File.ReadAllText(Path.Combine(state, "devhost.json")));
        string endpoint = devhost.RootElement.GetProperty("azurite").GetProperty("blob").GetString()!;
        string accountKey = devhost.RootElement.GetProperty("accounts").EnumerateArray().Single(x => x.GetProperty("name").GetString() == account).GetProperty("key").GetString()!;
        return new BlobServiceClient(new Uri($"{endpoint}/{account}"), new StorageSharedKeyCredential(account, accountKey));
    }
}
