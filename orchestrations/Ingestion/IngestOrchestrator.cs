using Lepton.Runs;
using Lepton.Datasets;
using Lepton.Ingestion;
using Lepton.Orchestrations.Training;
using Lepton.Training;
using Microsoft.DurableTask;

namespace Lepton.Orchestrations.Ingestion;

/// <summary>
/// One uploaded file becomes a curated dataset version or a rejection report: analyze, clean, publish.
/// Deterministic: it only passes references and small metadata between activities and reads no clock or storage itself.
/// </summary>
public sealed class IngestOrchestrator : TaskOrchestrator<IngestRequest, IngestOutcome>
{
    private const int Steps = 3;

    public override async Task<IngestOutcome> RunAsync(TaskOrchestrationContext context, IngestRequest request)
    {
        var slot = new IngestSlotRequest(request.TenantId, request.RunId);
        while (await context.CallActivityAsync<IngestSlotDecision>(nameof(ReserveIngestSlot), slot, ActivityRetry.Default) is { Granted: false } queued)
        {
            context.SetCustomStatus(new RunProgress("queued", 0, Steps));
            await context.CreateTimer(TimeSpan.FromSeconds(queued.WaitSeconds), CancellationToken.None);
        }

        try
        {
            return await IngestAsync(context, request);
        }
        finally
        {
            await context.CallActivityAsync(nameof(ReleaseIngestSlot), slot, ActivityRetry.Default);
        }
    }

    private static async Task<IngestOutcome> IngestAsync(TaskOrchestrationContext context, IngestRequest request)
    {
        AnalysisSummary analysis;
        CleanedVersion cleaned;
        DatasetVersionRecord version;
        try
        {
            context.SetCustomStatus(new RunProgress("analyzing", 0, Steps));
            analysis = await context.CallActivityAsync<AnalysisSummary>(nameof(AnalyzeSource), request, ActivityRetry.Default);
            if (analysis.IsRejected)
            {
                return await RejectAsync(context, new RejectRequest(request, analysis.Problems, analysis, null), analysis.DataRows);
            }

            context.SetCustomStatus(new RunProgress("cleaning", 1, Steps));
            cleaned = await context.CallActivityAsync<CleanedVersion>(nameof(CleanSource), new CleanRequest(request, analysis.AnalysisBlob), ActivityRetry.Default);
            if (cleaned.IsRejected)
            {
                return await RejectAsync(context, new RejectRequest(request, cleaned.Problems, analysis, cleaned.Version), cleaned.RowsIn);
            }

            context.SetCustomStatus(new RunProgress("publishing", 2, Steps));
            version = await context.CallActivityAsync<DatasetVersionRecord>(
                nameof(PublishDatasetVersion), new PublishRequest(request, analysis.AnalysisBlob, cleaned), ActivityRetry.Default);
        }
        catch (TaskFailedException e)
        {
            // A step failed for good before anything was published (publishing is one transaction): the partner finds the
            // file rejected with a report, as for any file that cannot be ingested, not a run that says "accepted" forever.
            return await RejectAsync(context, new RejectRequest(request, [PlatformFailure(request, e.FailureDetails)], null, null), 0);
        }

        context.SetCustomStatus(new RunProgress("published", Steps, Steps));
        if (analysis.Spec is { Online: true } online && request.Dataset is { } updated)
        {
            // dataset.json asked for online learning: the model's production network learns from this version's rows.
            var update = new OnlineUpdateRequest(request.TenantId, online.Model ?? updated, $"{updated}@{version.Version}", null, $"update-{request.RunId}");
            string? updateRunId = await context.CallActivityAsync<string?>(nameof(StartOnlineUpdateRun), update, ActivityRetry.Default);
            if (updateRunId is not null)
            {
                return Published(request, version, cleaned) with { TrainingRunId = updateRunId };
            }
        }

        if (analysis.Spec is { AutoTrain: true } spec && request.Dataset is { } dataset)
        {
            // dataset.json asked for a model: start a training run on this version, with an id derived from this run.
            // It is started through the client rather than as a sub-orchestration (see docs/design.md).
            var training = new TrainRequest(request.TenantId, spec.Model ?? dataset, [$"{dataset}@{version.Version}"], spec.Label, spec.Task, spec.Metric, 5, null,
                $"train-{request.RunId}");
            string trainingRunId = await context.CallActivityAsync<string>(nameof(StartTrainingRun), training, ActivityRetry.Default);
            return Published(request, version, cleaned) with { TrainingRunId = trainingRunId };
        }

        return Published(request, version, cleaned);
    }

    /// <summary>The problem a report gives for a step the platform failed: the platform's own message only when it is one written for callers.</summary>
    internal static IngestProblem PlatformFailure(IngestRequest request, TaskFailureDetails failure) =>
        new("platform-failure", ActivityRetry.IsTransient(failure)
            ? $"Lepton failed while processing this file, on the platform's side (logged with run {request.RunId}). Upload it again; if it fails again, report the run id."
            : failure.ErrorMessage, []);

    private static IngestOutcome Published(IngestRequest request, DatasetVersionRecord version, CleanedVersion cleaned) =>
        new(request.RunId, IngestRunStatus.Published, request.Dataset, version.Version, cleaned.RowsIn, cleaned.RowsOut, [], null);

    private static async Task<IngestOutcome> RejectAsync(TaskOrchestrationContext context, RejectRequest rejection, long rowsIn)
    {
        context.SetCustomStatus(new RunProgress("rejecting", Steps - 1, Steps));
        string report = await context.CallActivityAsync<string>(nameof(RejectSource), rejection, ActivityRetry.Default);
        context.SetCustomStatus(new RunProgress("rejected", Steps, Steps));
        return new IngestOutcome(rejection.Ingest.RunId, IngestRunStatus.Rejected, rejection.Ingest.Dataset, null, rowsIn, 0, rejection.Problems, report);
    }
}
