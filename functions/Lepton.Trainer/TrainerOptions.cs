using System.ComponentModel.DataAnnotations;

namespace Lepton.Trainer;

/// <summary>"Lepton:Trainer": where the jobs come from and how the worker treats them.</summary>
public sealed class TrainerOptions
{
    public const string SectionName = "Lepton:Trainer";

    /// <summary>A connection string to the platform account (Azurite locally); empty in Azure, where <see cref="QueueEndpoint"/> is used.</summary>
    public string QueueConnection { get; set; } = "";

    /// <summary>The platform account's queue endpoint, reached with the job's managed identity (Azure).</summary>
    public string QueueEndpoint { get; set; } = "";

    [Required]
    public string QueueName { get; set; } = "training";

    [Required]
    public string PoisonQueueName { get; set; } = "training-poison";

    /// <summary>Tries per message before it goes to the poison queue with its last error.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long a message stays hidden; renewed while its job runs, so a dead worker's job comes back within this time.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// An empty queue is asked again after half a second, then after twice as long each time, up to this; a job resets it.
    /// Jobs are minutes of training, so a second or two before one starts costs little, while polling an idle queue twice a
    /// second kept a few percent of a core busy in the worker and the emulator for nothing.
    /// </summary>
    public TimeSpan MaxIdlePollingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Stop when the queue is empty (a Container Apps job execution) instead of waiting for more (the dev host's worker).</summary>
    public bool ExitWhenIdle { get; set; }

    /// <summary>Train networks on the GPU when the machine has a CUDA device.</summary>
    public bool PreferGpu { get; set; } = true;

    public string WorkDirectory { get; set; } = "";

    /// <summary>The dev host that started this worker: when it is gone (killed), the worker stops too instead of lingering.</summary>
    public int? ParentProcessId { get; set; }
}
