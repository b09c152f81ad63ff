using Lepton.Functions.Http;
using Lepton.Orchestrations.Runs;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

public sealed class RunFunctions(AccessPolicy access, RunQueries runs)
{
    /// <summary>Status, progress and result of a run the caller's tenant owns; any other run is 404.</summary>
    [Function(nameof(GetRun))]
    public async Task<IActionResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "runs/{runId}")] HttpRequest request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        Caller caller = await access.AuthenticateAsync(request.ApiKey(), ct);
        RunLookup? run = await runs.FindAsync(client, runId, ct);
        AccessPolicy.Authorize(caller, LeptonAction.ReadRuns, run?.TenantId);
        return new OkObjectResult(run!.View);
    }
}
