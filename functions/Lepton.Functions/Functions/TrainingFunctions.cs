using Lepton.Orchestrations.Training;
using Lepton.Training;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of the training workflow; the logic lives in orchestrations/ and shared/Training.</summary>
public sealed class TrainingFunctions(
    PrepareTraining prepare, EvaluateCandidateFold evaluate, TrainFinalModel trainFinal, RegisterModelVersion register, StartTrainingRun start,
    StartOnlineUpdateRun startOnline, OnlineTraining online)
{
    [Function(nameof(TrainingOrchestrator))]
    public static Task<TrainingOutcome> RunTrainingOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new TrainingOrchestrator().RunAsync(context, context.GetInput<TrainRequest>()!);

    [Function(nameof(PrepareTraining))]
    public Task<TrainingPlan> RunPrepareTraining([ActivityTrigger] TrainRequest input, CancellationToken ct) => prepare.RunAsync(input, ct);

    [Function(nameof(EvaluateCandidateFold))]
    public Task<FoldResult> RunEvaluateCandidateFold([ActivityTrigger] FoldRequest input, CancellationToken ct) => evaluate.RunAsync(input, ct);

    [Function(nameof(TrainFinalModel))]
    public Task<TrainedArtifact> RunTrainFinalModel([ActivityTrigger] FinalTrainingRequest input, CancellationToken ct) => trainFinal.RunAsync(input, ct);

    [Function(nameof(StartTrainingRun))]
    public Task<string> RunStartTrainingRun([ActivityTrigger] TrainRequest input, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        start.RunAsync(client, input, ct);

    [Function(nameof(RegisterModelVersion))]
    public Task<ModelVersion> RunRegisterModelVersion([ActivityTrigger] RegisterRequest input, CancellationToken ct) => register.RunAsync(input, ct);

    [Function(nameof(StartOnlineUpdateRun))]
    public Task<string?> RunStartOnlineUpdateRun([ActivityTrigger] OnlineUpdateRequest input, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        startOnline.RunAsync(client, input, ct);

    [Function(nameof(OnlineUpdateOrchestrator))]
    public static Task<TrainingOutcome> RunOnlineUpdateOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new OnlineUpdateOrchestrator().RunAsync(context, context.GetInput<OnlineUpdateRequest>()!);

    [Function(nameof(TrainOnlineUpdate))]
    public Task<OnlineUpdateResult> RunTrainOnlineUpdate([ActivityTrigger] OnlineUpdateRequest input, CancellationToken ct) => online.TrainAsync(input, ct);

    [Function(nameof(RegisterOnlineUpdate))]
    public Task<ModelVersion> RunRegisterOnlineUpdate([ActivityTrigger] OnlineUpdateResult input, CancellationToken ct) => online.RegisterAsync(input, ct);
}
