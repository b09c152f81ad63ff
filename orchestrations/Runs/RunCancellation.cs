using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Ingestion;
using Microsoft.DurableTask.Client;

namespace Lepton.Orchestrations.Runs;

/// <summary>
/// Stops a run its owner no longer wants: the durable instance is terminated (activities already running finish, but
/// their results are discarded and nothing further is scheduled), and what the run left visible is closed — an ingest
/// run's catalog entry says "rejected: cancelled", so no dataset shows a run that never ends.
/// </summary>
public sealed class RunCancellation(DatasetCatalog catalog)
{
    public async Task CancelAsync(DurableTaskClient client, string runId, string actor, CancellationToken ct = default)
    {
        OrchestrationMetadata meta = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct)
            ?? throw LeptonException.NotFound("No such resource.");
        if (meta.RuntimeStatus is not (OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended))
        {
            throw LeptonException.Conflict($"Run '{runId}' has already ended ({meta.RuntimeStatus}); only a pending or running run can be cancelled.");
        }

        string reason = $"Cancelled by {actor}.";
        await client.TerminateInstanceAsync(runId, new TerminateInstanceOptions { Output = reason }, ct);
        if (meta.Name == nameof(Ingestion.IngestOrchestrator) && meta.ReadInputAs<IngestRequest>() is { Dataset: { } dataset } ingest)
        {
            await catalog.RecordRejectionAsync(ingest.TenantId, dataset, runId, reason, ct);
        }
    }
}
