using Lepton.Functions.Http;
using Lepton.Orchestrations.Runs;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

public sealed class RunFunctions(RunQueries runs, RunCancellation cancellation, AccessPolicy policy)
{
    /// <summary>Status, progress and result of a run the caller's tenant owns (or, for a collaboration's run, is a member of); any other run is 404.</summary>
    [Function(nameof(GetRun))]
    [OpenApiResponse(typeof(Lepton.Orchestrations.Runs.RunView))]
    [RequiresAction(LeptonAction.ReadRuns)]
    public async Task<IActionResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "runs/{runId}")] HttpRequest request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        // The route names no owner: the run's own tenant or collaboration is checked once it is loaded.
        RunLookup? run = await runs.FindAsync(client, runId, ct);
        await policy.AuthorizeOwnedAsync(request.Caller(), LeptonAction.ReadRuns, run?.TenantId, run?.Collaboration, ct);
        return new OkObjectResult(run!.View);
    }

    /// <summary>Terminates a pending or running run; only a key of the tenant that started it, with a role that may train, can.</summary>
    [Function(nameof(CancelRun))]
    [OpenApiResponse(typeof(Lepton.Orchestrations.Runs.RunView))]
    [RequiresAction(LeptonAction.Train)]
    public async Task<IActionResult> CancelRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "runs/{runId}/cancel")] HttpRequest request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        Caller caller = request.Caller();
        RunLookup? run = await runs.FindAsync(client, runId, ct);
        await policy.AuthorizeRunCancellationAsync(caller, run?.TenantId, run?.Collaboration, ct);
        await cancellation.CancelAsync(client, runId, $"{caller.TenantId}/key:{caller.KeyId}", ct);
        return new AcceptedResult($"/api/runs/{runId}", (await runs.FindAsync(client, runId, ct))!.View);
    }
}
