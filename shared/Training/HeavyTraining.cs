using System.ComponentModel.DataAnnotations;

namespace Lepton.Training;

/// <summary>When a candidate goes to the GPU trainer instead of running inside the function app ("Lepton:HeavyTraining").</summary>
public sealed class HeavyTrainingOptions
{
    public const string SectionName = "Lepton:HeavyTraining";

    /// <summary>Off: every candidate trains in-process (the function app's limits then apply to big ones).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The platform account's queue the trainer worker (a Container Apps job in Azure) reads.</summary>
    [Required]
    public string QueueName { get; set; } = "training";

    /// <summary>Where messages that keep failing go, with their reason.</summary>
    [Required]
    public string PoisonQueueName { get; set; } = "training-poison";

    /// <summary>A run whose rows × columns exceed this trains its network candidates on the worker.</summary>
    [Range(1, long.MaxValue)]
    public long CellsThreshold { get; set; } = 20_000_000;

    /// <summary>A network with more weights than this trains on the worker, whatever the data size.</summary>
    [Range(1, long.MaxValue)]
    public long ParametersThreshold { get; set; } = 2_000_000;

    /// <summary>How long the run waits for a job before it marks the candidate failed and dead-letters the job.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>The function app's API root the worker reports to, e.g. https://app.azurewebsites.net/api (the dev host sets its own).</summary>
    public string CallbackBaseUrl { get; set; } = "";

    /// <summary>The function key the completion endpoint requires (a Key Vault reference in Azure).</summary>
    public string CallbackKey { get; set; } = "";

    /// <summary>How many times the worker tries a message before it goes to the poison queue.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;
}

/// <summary>
/// One candidate's work for the trainer worker: cross-validate it, train it on all rows, export it. The data comes as
/// read-only, short-lived SAS URLs of the curated blobs, and the outputs go to write-only SAS URLs of single blobs, so the
/// worker holds no key of any account and can touch nothing else.
/// </summary>
public sealed record HeavyTrainingJob(
    string JobId,
    string RunId,
    string EventName,
    TrainingPlan Plan,
    CandidateSpec Candidate,
    IReadOnlyList<string> DataUrls,
    string OnnxUrl,
    string ModelUrl,
    string ResultUrl,
    string CallbackUrl,
    string OnnxBlob,
    string ModelBlob,
    string ResultBlob);

/// <summary>What the worker reports: the candidate's fold metrics and its final artifact, or why it failed.</summary>
public sealed record HeavyTrainingResult(
    string JobId,
    string CandidateId,
    IReadOnlyList<FoldResult> Folds,
    TrainedArtifact? Artifact,
    string? Error,
    string Device,
    double Seconds);

/// <summary>The orchestration's side of a job: the plan and the candidate to send, and the job once sent.</summary>
public sealed record HeavyTrainingRequest(TrainingPlan Plan, CandidateSpec Candidate);

public sealed record HeavyTrainingTicket(string JobId, string EventName, string ResultBlob);

public sealed record DeadLetterRequest(HeavyTrainingTicket Ticket, string Reason);

/// <summary>The rule that sends a candidate to the worker: asked for, a big network, or big data for a network.</summary>
public static class HeavyTrainingRule
{
    public static bool IsHeavy(TrainingPlan plan, CandidateSpec candidate, HeavyTrainingOptions options)
    {
        if (!options.Enabled || plan.Collaboration is not null || !ParametricEngine.Handles(candidate))
        {
            // Collaboration runs read members' rows under their grants inside platform activities; ML.NET trainers need no GPU.
            return false;
        }

        int columns = plan.Schema.Columns.Count;
        return plan.Request.Heavy || plan.Rows * columns > options.CellsThreshold || Weights(candidate, columns) > options.ParametersThreshold;
    }

    /// <summary>An estimate of the network's weights from its layer widths (inputs approximated by the column count).</summary>
    public static long Weights(CandidateSpec candidate, int inputs)
    {
        int[] widths = [inputs, .. ParametricEngine.Options(candidate, 0).Hidden, 1];
        return widths.Zip(widths.Skip(1)).Sum(w => (long)w.First * w.Second + w.Second);
    }

    public static string EventName(string candidateId) => $"heavy-training-{candidateId}";
}
