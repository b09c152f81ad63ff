using System.Diagnostics;
using System.Net.Http.Json;
using Azure.Storage.Blobs;
using Lepton.Storage;
using Microsoft.Extensions.Logging;

namespace Lepton.Training;

/// <summary>
/// What the trainer worker does with one job, the same code in the Container Apps job and in the dev host's child
/// process: fetch the curated rows through the job's read SAS URLs, cross-validate the candidate and train it on all rows
/// (networks on the process's <see cref="ParametricEngine.TrainingBackend"/>, the GPU where there is one), write the ONNX
/// artifact and the result through the job's write SAS URLs, and call the run back. A candidate that cannot be trained is
/// a result with its error, not a retry: training is deterministic, a second try would fail the same way.
/// </summary>
public sealed partial class HeavyTrainingWorker(HttpClient http, ILogger<HeavyTrainingWorker> logger)
{
    public async Task<HeavyTrainingResult> RunAsync(HeavyTrainingJob job, string workDirectory, string device, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        string directory = Directory.CreateDirectory(Path.Combine(workDirectory, job.JobId)).FullName;
        try
        {
            string data = Path.Combine(directory, "data.csv");
            await CuratedVersions.WriteAsync(job.DataUrls.Select(url => new BlobClient(new Uri(url))).ToList(), data, ct);
            TrainingPlan plan = job.Plan;
            LogTraining(job.JobId, job.Candidate.Id, plan.Folds, device);
            int[] assignment = FoldSplitter.Assign(FoldSplitter.ReadColumn(data, plan.Label), plan.Folds, plan.Seed, stratify: plan.Task != MlTasks.Regression);
            FoldSplitter.WriteFolds(data, assignment, plan.Folds, directory);
            var folds = new List<FoldResult>();
            for (int fold = 0; fold < plan.Folds; fold++)
            {
                (string train, string test) = FoldSplitter.FoldFiles(directory, fold);
                folds.Add(await Task.Run(() => TrainingEngine.EvaluateFold(plan, job.Candidate, train, test, fold), ct));
            }

            HeavyTrainingResult result;
            if (folds.All(f => f.Error is not null))
            {
                result = new HeavyTrainingResult(job.JobId, job.Candidate.Id, folds, null, folds[0].Error, device, watch.Elapsed.TotalSeconds);
            }
            else
            {
                FinalModel model = await Task.Run(() => TrainingEngine.TrainFinal(plan, job.Candidate, data, directory), ct);
                await new BlobClient(new Uri(job.OnnxUrl)).UploadAsync(BinaryData.FromBytes(model.Onnx), overwrite: true, ct);
                await new BlobClient(new Uri(job.ModelUrl)).UploadAsync(BinaryData.FromBytes(model.ModelZip), overwrite: true, ct);
                var artifact = new TrainedArtifact(job.OnnxBlob, TrainingEngine.Sha256(model.Onnx), job.ModelBlob, model.Inputs, model.ClassLabels,
                    model.ParityMaxDifference, model.ParityRows, model.Evaluation);
                result = new HeavyTrainingResult(job.JobId, job.Candidate.Id, folds, artifact, null, device, watch.Elapsed.TotalSeconds);
            }

            await ReportAsync(job, result, ct);
            return result;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or InvalidDataException)
        {
            var failed = new HeavyTrainingResult(job.JobId, job.Candidate.Id, [], null, e.Message, device, watch.Elapsed.TotalSeconds);
            await ReportAsync(job, failed, ct);
            return failed;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The result blob first (it survives a lost callback), then the callback that wakes the run.</summary>
    public async Task ReportAsync(HeavyTrainingJob job, HeavyTrainingResult result, CancellationToken ct)
    {
        await new BlobClient(new Uri(job.ResultUrl)).UploadAsync(BinaryData.FromObjectAsJson(result, LeptonJson.Options), overwrite: true, ct);
        using HttpResponseMessage response = await http.PostAsJsonAsync(job.CallbackUrl, result, LeptonJson.Options, ct);
        if (!response.IsSuccessStatusCode)
        {
            // The run finds the result blob when it next polls; nothing is lost.
            LogCallbackFailed(job.JobId, (int)response.StatusCode);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: training {Candidate} with {Folds} folds on {Device}")]
    private partial void LogTraining(string jobId, string candidate, int folds, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the callback answered {Status}; the run will read the result blob")]
    private partial void LogCallbackFailed(string jobId, int status);
}
