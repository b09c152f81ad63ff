using System.Text.Json;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Lepton.Learning;
using Lepton.Storage;
using Lepton.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Trainer;

/// <summary>
/// Takes jobs from the training queue one at a time. A message is hidden while its job runs (renewed), deleted when the
/// job reported, retried after a transient failure with the error kept in the message, and moved to the poison queue
/// with that reason once it has failed <see cref="TrainerOptions.MaxAttempts"/> times — or at once when it is not a job.
/// </summary>
public sealed partial class TrainerService(
    HeavyTrainingWorker worker, IOptions<TrainerOptions> options, IHostApplicationLifetime lifetime, ILogger<TrainerService> logger) : BackgroundService
{
    /// <summary>The queue message: the job's address, and the last attempt's error once there was one.</summary>
    internal sealed record Envelope(string JobUrl, string? LastError = null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TrainerOptions settings = options.Value;
        string device = ChooseDevice(settings.PreferGpu);
        LogReady(settings.QueueName, device);
        (QueueClient queue, QueueClient poison) = Queues(settings);
        await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        TimeSpan idle = FirstIdleInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (settings.ParentProcessId is { } parent && !IsAlive(parent))
            {
                LogOrphaned(parent);
                lifetime.StopApplication();
                return;
            }

            QueueMessage? message;
            try
            {
                message = (await queue.ReceiveMessageAsync(settings.VisibilityTimeout, stoppingToken)).Value;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && Lepton.Storage.StorageFaults.IsOutage(e))
            {
                LogQueueUnavailable(e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                continue;
            }

            if (message is null)
            {
                if (settings.ExitWhenIdle)
                {
                    lifetime.StopApplication();
                    return;
                }

                await Task.Delay(idle, stoppingToken);
                idle = NextIdleInterval(idle, settings.MaxIdlePollingInterval);
                continue;
            }

            idle = FirstIdleInterval;
            await HandleAsync(queue, poison, message, device, settings, stoppingToken);
        }
    }

    private async Task HandleAsync(QueueClient queue, QueueClient poison, QueueMessage message, string device, TrainerOptions settings, CancellationToken ct)
    {
        Envelope? envelope = Read(message.MessageText);
        if (envelope is null)
        {
            await PoisonAsync(queue, poison, message, $"not a training job message: {Truncate(message.MessageText)}", ct);
            return;
        }

        if (message.DequeueCount > settings.MaxAttempts)
        {
            await PoisonAsync(queue, poison, message, $"failed {message.DequeueCount - 1} times; last error: {envelope.LastError ?? "unknown"}", ct);
            return;
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lease = new Lease(message.MessageId, message.PopReceipt);
        Task renewing = RenewAsync(queue, lease, message.MessageText, settings.VisibilityTimeout, renewal.Token);
        try
        {
            HeavyTrainingJob job = (await new BlobClient(new Uri(envelope.JobUrl)).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<HeavyTrainingJob>(LeptonJson.Options)!;
            string work = settings.WorkDirectory is { Length: > 0 } w ? w : Path.Combine(Path.GetTempPath(), "lepton-trainer");
            HeavyTrainingResult result = await worker.RunAsync(job, work, device, ct);
            LogDone(job.JobId, result.Error ?? "ok", result.Seconds);
            await renewal.CancelAsync();
            await renewing;
            await queue.DeleteMessageAsync(message.MessageId, lease.PopReceipt, ct);
        }
        catch (Exception e) when (e is RequestFailedException or HttpRequestException or IOException or JsonException
            || (!ct.IsCancellationRequested && Lepton.Storage.StorageFaults.IsOutage(e)))
        {
            // Storage, the callback or the job blob failed: try again later, remembering why for the poison queue.
            await renewal.CancelAsync();
            await renewing;
            LogRetry(message.MessageId, e.Message);
            string text = JsonSerializer.Serialize(envelope with { LastError = e.Message }, LeptonJson.Options);
            await queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, text, TimeSpan.FromSeconds(5), ct);
        }
    }

    private sealed class Lease(string messageId, string popReceipt)
    {
        public string MessageId { get; } = messageId;

        public string PopReceipt { get; set; } = popReceipt;
    }

    /// <summary>Keeps the message hidden while the job runs, so no other worker starts it twice.</summary>
    private static async Task RenewAsync(QueueClient queue, Lease lease, string text, TimeSpan visibility, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(visibility / 2, ct);
                UpdateReceipt receipt = (await queue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt, text, visibility, ct)).Value;
                lease.PopReceipt = receipt.PopReceipt;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, string reason, CancellationToken ct)
    {
        LogPoison(message.MessageId, reason);
        await poison.SendMessageAsync(JsonSerializer.Serialize(new { messageId = message.MessageId, reason, message = message.MessageText }, LeptonJson.Options), ct);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
    }

    internal static Envelope? Read(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<Envelope>(text, LeptonJson.Options) is { JobUrl.Length: > 0 } envelope
                && Uri.TryCreate(envelope.JobUrl, UriKind.Absolute, out _) ? envelope : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (QueueClient Queue, QueueClient Poison) Queues(TrainerOptions settings)
    {
        var clientOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        QueueServiceClient service = settings.QueueConnection is { Length: > 0 } connection
            ? new QueueServiceClient(connection, clientOptions)
            : new QueueServiceClient(new Uri(settings.QueueEndpoint), new DefaultAzureCredential(), clientOptions);
        return (service.GetQueueClient(settings.QueueName), service.GetQueueClient(settings.PoisonQueueName));
    }

    /// <summary>CUDA through ILGPU when the machine has a device; else the CPU's SIMD kernels (the same results within 1e-4).</summary>
    private static string ChooseDevice(bool preferGpu)
    {
        if (preferGpu && IlgpuBackend.CudaDeviceName() is { } name)
        {
            ParametricEngine.TrainingBackend = static () => new IlgpuBackend(preferCuda: true);
            return $"cuda ({name})";
        }

        return $"cpu ({Environment.ProcessorCount} cores)";
    }

    internal static readonly TimeSpan FirstIdleInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The wait after another empty poll: doubled, at most <paramref name="ceiling"/> (and never below the first).</summary>
    internal static TimeSpan NextIdleInterval(TimeSpan current, TimeSpan ceiling) =>
        TimeSpan.FromTicks(Math.Max(FirstIdleInterval.Ticks, Math.Min(current.Ticks * 2, ceiling.Ticks)));

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Lepton trainer ready: queue {Queue}, device {Device}")]
    private partial void LogReady(string queue, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The process that started this worker ({Parent}) is gone; stopping")]
    private partial void LogOrphaned(int parent);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} done: {Outcome} in {Seconds:F1} s")]
    private partial void LogDone(string jobId, string outcome, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} failed ({Error}); it will be retried")]
    private partial void LogRetry(string messageId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} moved to the poison queue: {Reason}")]
    private partial void LogPoison(string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The training queue is unavailable ({Error}); retrying")]
    private partial void LogQueueUnavailable(string error);
}
