using Lepton.Api;
using Lepton.Collaborations;
using Lepton.Functions.Http;
using Lepton.Orchestrations.Collaborations;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

/// <summary>
/// Collaboration agreements: propose, list, read, accept, change terms, leave, and the members' data report. Routes with
/// {collaboration} are authorized for current members only (404 for anyone else) by the one access policy.
/// </summary>
public sealed class CollaborationFunctions(CollaborationStore collaborations, CollaborationLifecycle lifecycle, CollaborationData data, CollaborationStarter starter)
{
    [Function(nameof(ProposeCollaboration))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Collaboration))]
    [RequiresAction(LeptonAction.ProposeCollaboration)]
    public async Task<IActionResult> ProposeCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations")] HttpRequest request, CancellationToken ct)
    {
        CollaborationProposal body = await request.ReadJsonBodyAsync<CollaborationProposal>(ct);
        Collaboration proposed = await collaborations.ProposeAsync(request.Caller().TenantId!, body, request.Caller().Actor, ct);
        return new ObjectResult(proposed) { StatusCode = StatusCodes.Status201Created };
    }

    [Function(nameof(ListCollaborations))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.CollaborationList))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> ListCollaborations(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations")] HttpRequest request, CancellationToken ct) =>
        new OkObjectResult(new CollaborationList(await collaborations.ListForMemberAsync(request.Caller().TenantId!, ct)));

    [Function(nameof(GetCollaboration))]
    [OpenApiResponse(typeof(Lepton.Orchestrations.Collaborations.CollaborationView))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> GetCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}")] HttpRequest request,
        string collaboration, CancellationToken ct) =>
        new OkObjectResult(await starter.DescribeAsync(await MemberViewAsync(request, collaboration, ct), ct));

    [Function(nameof(AcceptCollaboration))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Collaboration))]
    [RequiresAction(LeptonAction.ManageCollaboration)]
    public async Task<IActionResult> AcceptCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/accept")] HttpRequest request,
        string collaboration, CancellationToken ct) =>
        new OkObjectResult(await collaborations.AcceptAsync(collaboration, request.Caller().TenantId!, request.Caller().Actor, ct));

    /// <summary>Changes name, allocation or terms: a new revision that every member must accept again.</summary>
    [Function(nameof(ChangeCollaboration))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Collaboration))]
    [RequiresAction(LeptonAction.ManageCollaboration)]
    public async Task<IActionResult> ChangeCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "collaborations/{collaboration}")] HttpRequest request,
        string collaboration, CancellationToken ct)
    {
        CollaborationChange body = await request.ReadJsonBodyAsync<CollaborationChange>(ct);
        return new OkObjectResult(await collaborations.UpdateAsync(collaboration, request.Caller().TenantId!, body, request.Caller().Actor, ct));
    }

    /// <summary>Leaves: the member's grants to the collaboration end, and its models are marked (and stopped, if the terms say so).</summary>
    [Function(nameof(LeaveCollaboration))]
    [OpenApiResponse(typeof(Lepton.Collaborations.Collaboration))]
    [RequiresAction(LeptonAction.ManageCollaboration)]
    public async Task<IActionResult> LeaveCollaboration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/leave")] HttpRequest request,
        string collaboration, CancellationToken ct) =>
        new OkObjectResult(await lifecycle.LeaveAsync(collaboration, request.Caller().TenantId!, request.Caller().Actor, ct));

    /// <summary>Per member: dataset versions, rows, schema and compatibility with the agreed task. Never rows.</summary>
    [Function(nameof(GetCollaborationData))]
    [OpenApiResponse(typeof(Lepton.Collaborations.DataReport))]
    [RequiresAction(LeptonAction.ReadCollaboration)]
    public async Task<IActionResult> GetCollaborationData(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "collaborations/{collaboration}/data")] HttpRequest request,
        string collaboration, CancellationToken ct) =>
        new OkObjectResult(await data.ReportAsync(await MemberViewAsync(request, collaboration, ct), ct));

    /// <summary>Starts pooled or federated training (the agreement's mode) on the members' granted data; 202 with the run any member can follow.</summary>
    [Function(nameof(StartCollaborationTraining))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.RunReceipt))]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> StartCollaborationTraining(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "collaborations/{collaboration}/models")] HttpRequest request,
        string collaboration, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        StartCollaborationTrainingBody body = await request.ReadJsonBodyAsync<StartCollaborationTrainingBody>(ct);
        string runId = await starter.StartTrainingAsync(client, await MemberViewAsync(request, collaboration, ct), request.Caller().TenantId!, request.Caller().Actor, body, ct);
        return RunAccepted.For(runId);
    }

    private async Task<Collaboration> MemberViewAsync(HttpRequest request, string collaboration, CancellationToken ct) =>
        await collaborations.GetForMemberAsync(collaboration, request.Caller().TenantId, ct);
}
