using Lepton.Functions.Http;
using Lepton.Orchestrations;
using Lepton.Orchestrations.Training;
using Lepton.Training;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of the training workflows: each activity calls its service directly (one hop).</summary>
public sealed class TrainingFunctions(TrainingService training, OnlineUpdateStarter onlineStarter, OnlineTraining online, HeavyTrainingDispatcher heavy)
{
    [Function(nameof(TrainingOrchestrator))]
    public static Task<TrainingOutcome> RunTrainingOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new TrainingOrchestrator().RunAsync(context, context.GetInput<TrainRequest>()!);

    [Function(nameof(PrepareTraining))]
    public Task<TrainingPlan> RunPrepareTraining([ActivityTrigger] TrainRequest input, CancellationToken ct) => training.PrepareAsync(input, ct);

    [Function(nameof(EvaluateCandidateFold))]
    public Task<FoldResult> RunEvaluateCandidateFold([ActivityTrigger] FoldRequest input, CancellationToken ct) => training.EvaluateFoldAsync(input, ct);

    [Function(nameof(EvaluateCandidateFolds))]
    public Task<IReadOnlyList<FoldResult>> RunEvaluateCandidateFolds([ActivityTrigger] FoldBatchRequest input, CancellationToken ct) => training.EvaluateFoldsAsync(input, ct);

    [Function(nameof(TrainFinalModel))]
    public Task<TrainedArtifact> RunTrainFinalModel([ActivityTrigger] FinalTrainingRequest input, CancellationToken ct) => training.TrainFinalAsync(input, ct);

    [Function(nameof(RegisterModelVersion))]
    public Task<ModelVersion> RunRegisterModelVersion([ActivityTrigger] RegisterRequest input, CancellationToken ct) => training.RegisterAsync(input, ct);

    /// <summary>The run id is derived from the caller's, so a retried activity finds the run it started.</summary>
    [Function(nameof(StartTrainingRun))]
    public static async Task<string> RunStartTrainingRun([ActivityTrigger] TrainRequest input, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        await client.ScheduleOnceAsync(nameof(TrainingOrchestrator), input, input.RunId, ct);
        return input.RunId;
    }

    [Function(nameof(StartOnlineUpdateRun))]
    public Task<string?> RunStartOnlineUpdateRun([ActivityTrigger] OnlineUpdateRequest input, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        onlineStarter.StartFromIngestAsync(client, input, ct);

    [Function(nameof(OnlineUpdateOrchestrator))]
    public static Task<TrainingOutcome> RunOnlineUpdateOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new OnlineUpdateOrchestrator().RunAsync(context, context.GetInput<OnlineUpdateRequest>()!);

    [Function(nameof(TrainOnlineUpdate))]
    public Task<OnlineUpdateResult> RunTrainOnlineUpdate([ActivityTrigger] OnlineUpdateRequest input, CancellationToken ct) => online.TrainAsync(input, ct);

    [Function(nameof(RegisterOnlineUpdate))]
    public Task<ModelVersion> RunRegisterOnlineUpdate([ActivityTrigger] OnlineUpdateResult input, CancellationToken ct) => online.RegisterAsync(input, ct);

    [Function(nameof(EnqueueHeavyTraining))]
    public Task<HeavyTrainingTicket> RunEnqueueHeavyTraining([ActivityTrigger] HeavyTrainingRequest input, CancellationToken ct) => heavy.EnqueueAsync(input, ct);

    [Function(nameof(ReadHeavyTrainingResult))]
    public Task<HeavyTrainingResult?> RunReadHeavyTrainingResult([ActivityTrigger] HeavyTrainingTicket input, CancellationToken ct) => heavy.ReadResultAsync(input, ct);

    [Function(nameof(DeadLetterHeavyTraining))]
    public Task RunDeadLetterHeavyTraining([ActivityTrigger] DeadLetterRequest input, CancellationToken ct) => heavy.DeadLetterAsync(input, ct);

    /// <summary>
    /// The trainer worker's completion callback (function key, like the Event Grid webhook): raises the job's event on its
    /// run. A run no longer waiting (finished, timed out, duplicate) simply ignores it.
    /// </summary>
    [Function(nameof(CompleteHeavyTraining))]
    public static async Task<IActionResult> CompleteHeavyTraining(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "training/jobs/{runId}/complete")] HttpRequest request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        HeavyTrainingResult result = await request.ReadJsonBodyAsync<HeavyTrainingResult>(ct);
        HeavyTrainingDispatcher.CheckCompletion(runId, result);
        if (await client.GetInstanceAsync(runId, ct) is not { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending })
        {
            return new AcceptedResult();
        }

        await client.RaiseEventAsync(runId, HeavyTrainingRule.EventName(result.CandidateId), result, ct);
        return new AcceptedResult();
    }
}
