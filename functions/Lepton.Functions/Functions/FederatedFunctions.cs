using Lepton.Federated;
using Lepton.Orchestrations.Collaborations;
using Lepton.Training;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Lepton.Functions.Functions;

/// <summary>Durable triggers of federated training: each activity calls <see cref="FederatedService"/> directly (one hop).</summary>
public sealed class FederatedFunctions(FederatedService federated)
{
    [Function(nameof(FederatedOrchestrator))]
    public static Task<TrainingOutcome> RunFederatedOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new FederatedOrchestrator().RunAsync(context, context.GetInput<FederatedState>()!);

    [Function(nameof(PrepareFederatedRun))]
    public Task<FederatedDraft> RunPrepareFederatedRun([ActivityTrigger] FederatedRequest input, CancellationToken ct) => federated.PrepareAsync(input, ct);

    [Function(nameof(ComputeMemberStatistics))]
    public Task<MemberStatistics> RunComputeMemberStatistics([ActivityTrigger] StatisticsRequest input, CancellationToken ct) => federated.ComputeStatisticsAsync(input, ct);

    [Function(nameof(PublishMemberKey))]
    public Task<MemberKey> RunPublishMemberKey([ActivityTrigger] KeyRequest input, CancellationToken ct) => federated.PublishKeyAsync(input, ct);

    [Function(nameof(InitializeFederatedModel))]
    public Task<FederatedStart> RunInitializeFederatedModel([ActivityTrigger] InitializeRequest input, CancellationToken ct) => federated.InitializeAsync(input, ct);

    [Function(nameof(TrainMemberRound))]
    public Task<MemberRoundResult> RunTrainMemberRound([ActivityTrigger] MemberRoundRequest input, CancellationToken ct) => federated.TrainMemberAsync(input, ct);

    [Function(nameof(AggregateFederatedRound))]
    public Task<RoundSummary> RunAggregateFederatedRound([ActivityTrigger] AggregateRequest input, CancellationToken ct) => federated.AggregateAsync(input, ct);

    [Function(nameof(SummarizeFederatedEvaluation))]
    public Task<RoundSummary> RunSummarizeFederatedEvaluation([ActivityTrigger] AggregateRequest input, CancellationToken ct) => federated.SummarizeAsync(input, ct);

    [Function(nameof(RegisterFederatedModel))]
    public Task<ModelVersion> RunRegisterFederatedModel([ActivityTrigger] RegisterFederatedRequest input, CancellationToken ct) => federated.RegisterAsync(input, ct);
}
