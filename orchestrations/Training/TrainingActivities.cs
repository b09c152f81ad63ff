using Lepton.Training;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Training;

/// <summary>Resolve datasets, validate label and folds, plan the candidate × fold grid.</summary>
public sealed class PrepareTraining(TrainingService training)
{
    public Task<TrainingPlan> RunAsync(TrainRequest input, CancellationToken ct = default) => training.PrepareAsync(input, ct);
}

/// <summary>Train one candidate on k-1 folds and score the held-out fold; returns metrics only.</summary>
public sealed class EvaluateCandidateFold(TrainingService training)
{
    public Task<FoldResult> RunAsync(FoldRequest input, CancellationToken ct = default) => training.EvaluateFoldAsync(input, ct);
}

/// <summary>Train the winner on all rows, export to ONNX, check parity, store the artifacts.</summary>
public sealed class TrainFinalModel(TrainingService training)
{
    public Task<TrainedArtifact> RunAsync(FinalTrainingRequest input, CancellationToken ct = default) => training.TrainFinalAsync(input, ct);
}

/// <summary>Register the new version and decide its promotion against production.</summary>
public sealed class RegisterModelVersion(TrainingService training)
{
    public Task<ModelVersion> RunAsync(RegisterRequest input, CancellationToken ct = default) => training.RegisterAsync(input, ct);
}

/// <summary>Starts a training run through the client, once: the run id is derived from the caller's, so a retry finds it.</summary>
public sealed class StartTrainingRun
{
    public async Task<string> RunAsync(DurableTaskClient client, TrainRequest input, CancellationToken ct = default)
    {
        await client.ScheduleOnceAsync(nameof(TrainingOrchestrator), input, input.RunId, ct);
        return input.RunId;
    }
}

/// <summary>Starts an online update through the client, once, when the model has a network in production; else null.</summary>
public sealed class StartOnlineUpdateRun(OnlineUpdateStarter starter)
{
    public Task<string?> RunAsync(DurableTaskClient client, OnlineUpdateRequest input, CancellationToken ct = default) =>
        starter.StartFromIngestAsync(client, input, ct);
}
