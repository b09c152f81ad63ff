using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Sas;
using Lepton.Errors;
using Lepton.Storage;
using Microsoft.Extensions.Options;

namespace Lepton.Training;

/// <summary>
/// The platform's side of heavy training: sends a candidate's job to the trainer worker's queue with single-blob SAS URLs
/// (read the tenant's curated versions, write the candidate's artifacts), reads a job's result blob when the callback
/// was lost, and dead-letters jobs the run stopped waiting for. The job itself is a blob; the queue carries its address,
/// so wide schemas never meet the queue's 64 KB message limit.
/// </summary>
public sealed class HeavyTrainingDispatcher(
    TenantStorageFactory tenants, StorageClients storage, ModelRegistry registry, IOptions<HeavyTrainingOptions> options, TimeProvider time)
{
    public QueueClient Queue => storage.PlatformQueues.GetQueueClient(options.Value.QueueName);

    public QueueClient PoisonQueue => storage.PlatformQueues.GetQueueClient(options.Value.PoisonQueueName);

    /// <summary>The queue message: where the job is (a read-only SAS of its blob).</summary>
    public sealed record JobMessage(string JobUrl);

    public static string JobPrefix(TrainingPlan plan, CandidateSpec candidate) =>
        ModelRegistry.ArtifactPrefix(plan.Request.TenantId, plan.Request.Model, plan.Request.RunId) + $"heavy/{candidate.Id}/";

    public async Task<HeavyTrainingTicket> EnqueueAsync(HeavyTrainingRequest request, CancellationToken ct = default)
    {
        (TrainingPlan plan, CandidateSpec candidate) = (request.Plan, request.Candidate);
        HeavyTrainingOptions settings = options.Value;
        // In Azure the app's own address is WEBSITE_HOSTNAME; the dev host sets CallbackBaseUrl to itself.
        string callbackBase = settings.CallbackBaseUrl is { Length: > 0 } configured ? configured
            : Environment.GetEnvironmentVariable("WEBSITE_HOSTNAME") is { Length: > 0 } host ? $"https://{host}/api"
            : throw new InvalidOperationException("Lepton:HeavyTraining:CallbackBaseUrl is not set: the trainer worker could not report back.");

        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset expires = now + settings.Timeout + TimeSpan.FromMinutes(30);
        TenantStorage tenant = await tenants.ForTenantAsync(plan.Request.TenantId, ct);
        var dataUrls = new List<string>();
        foreach (DatasetRef data in plan.Data)
        {
            dataUrls.Add((await SasUrls.ForBlobAsync(tenant.Service, tenant.Curated.GetBlobClient(data.DataBlob), BlobSasPermissions.Read, now, expires, ct)).ToString());
        }

        string prefix = JobPrefix(plan, candidate);
        string jobId = $"{plan.Request.RunId}-{candidate.Id}";
        string modelFile = prefix + TrainingService.ParametricModelFileName;
        var job = new HeavyTrainingJob(jobId, plan.Request.RunId, HeavyTrainingRule.EventName(candidate.Id), plan, candidate, dataUrls,
            await WriteUrlAsync(prefix + "model.onnx", now, expires, ct), await WriteUrlAsync(modelFile, now, expires, ct),
            await WriteUrlAsync(prefix + "result.json", now, expires, ct),
            $"{callbackBase.TrimEnd('/')}/training/jobs/{Uri.EscapeDataString(plan.Request.RunId)}/complete?code={Uri.EscapeDataString(settings.CallbackKey)}",
            prefix + "model.onnx", modelFile, prefix + "result.json");
        BlobClient jobBlob = registry.Artifact(prefix + "job.json");
        await jobBlob.UploadAsync(BinaryData.FromObjectAsJson(job, LeptonJson.Options), overwrite: true, ct);
        Uri jobUrl = await SasUrls.ForBlobAsync(storage.PlatformBlobs, jobBlob, BlobSasPermissions.Read, now, expires, ct);
        await Queue.CreateIfNotExistsAsync(cancellationToken: ct);
        await Queue.SendMessageAsync(JsonSerializer.Serialize(new JobMessage(jobUrl.ToString()), LeptonJson.Options), ct);
        return new HeavyTrainingTicket(jobId, job.EventName, job.ResultBlob);
    }

    /// <summary>The job's result if the worker wrote one (a callback may be lost; the result blob is not).</summary>
    public async Task<HeavyTrainingResult?> ReadResultAsync(HeavyTrainingTicket ticket, CancellationToken ct = default)
    {
        try
        {
            return (await registry.Artifact(ticket.ResultBlob).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<HeavyTrainingResult>(LeptonJson.Options);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Records a job the run gave up on in the poison queue, with the reason, for operators.</summary>
    public async Task DeadLetterAsync(DeadLetterRequest request, CancellationToken ct = default)
    {
        await PoisonQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await PoisonQueue.SendMessageAsync(JsonSerializer.Serialize(new { jobId = request.Ticket.JobId, reason = request.Reason, at = time.GetUtcNow() }, LeptonJson.Options),
            ct);
    }

    /// <summary>Checks a completion the worker posted before it is raised to the run: it must name a job of that run.</summary>
    public static void CheckCompletion(string runId, HeavyTrainingResult result)
    {
        if (result.JobId != $"{runId}-{result.CandidateId}")
        {
            throw LeptonException.BadRequest("The result does not name a job of this run.");
        }
    }

    private async Task<string> WriteUrlAsync(string blobName, DateTimeOffset now, DateTimeOffset expires, CancellationToken ct) =>
        (await SasUrls.ForBlobAsync(storage.PlatformBlobs, registry.Artifact(blobName), BlobSasPermissions.Create | BlobSasPermissions.Write, now, expires, ct)).ToString();
}
