using System.Text.Json;
using Lepton.DevHost.Functions;
using Lepton.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Lepton.Tests.Unit.Functions;

public class FunctionsMetadataTests
{
    /// <summary>Every function the platform exposes, with its trigger (and route for HTTP). Adding a function means adding it here.</summary>
    private static readonly SortedDictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        ["GetHealth"] = "httpTrigger health",
        ["CreateTenant"] = "httpTrigger tenants",
        ["GetTenant"] = "httpTrigger tenants/{tenant}",
        ["UpdateTenant"] = "httpTrigger tenants/{tenant}",
        ["CreateKey"] = "httpTrigger tenants/{tenant}/keys",
        ["ListKeys"] = "httpTrigger tenants/{tenant}/keys",
        ["RevokeKey"] = "httpTrigger tenants/{tenant}/keys/{keyId}",
        ["CreateGrant"] = "httpTrigger tenants/{tenant}/datasets/{dataset}/grants",
        ["ListGrants"] = "httpTrigger tenants/{tenant}/datasets/{dataset}/grants",
        ["RevokeGrant"] = "httpTrigger tenants/{tenant}/datasets/{dataset}/grants/{grantId}",
        ["ListAudit"] = "httpTrigger tenants/{tenant}/audit",
        ["VerifyAudit"] = "httpTrigger tenants/{tenant}/audit/verify",
        ["ListAuditHeads"] = "httpTrigger tenants/{tenant}/audit/heads",
        ["SignAuditHead"] = "httpTrigger tenants/{tenant}/audit/heads",
        ["ProveAuditInclusion"] = "httpTrigger tenants/{tenant}/audit/proofs/inclusion",
        ["ProveAuditConsistency"] = "httpTrigger tenants/{tenant}/audit/proofs/consistency",
        ["GetAuditSigningKey"] = "httpTrigger audit/signing-key",
        ["GetOpenApi"] = "httpTrigger openapi.json",
        ["CreateUpload"] = "httpTrigger tenants/{tenant}/uploads",
        ["StartTraining"] = "httpTrigger tenants/{tenant}/models",
        ["ListModels"] = "httpTrigger tenants/{tenant}/models",
        ["GetModel"] = "httpTrigger tenants/{tenant}/models/{model}",
        ["GetConsole"] = "httpTrigger console/{*path}",
        ["GetModelOnnx"] = "httpTrigger tenants/{tenant}/models/{model}/versions/{version}/onnx",
        ["Predict"] = "httpTrigger tenants/{tenant}/models/{model}/predict",
        ["PredictVersion"] = "httpTrigger tenants/{tenant}/models/{model}/versions/{version}/predict",
        ["RegisterExternalModel"] = "httpTrigger tenants/{tenant}/models/{model}/versions",
        ["TrainingOrchestrator"] = "orchestrationTrigger",
        ["PrepareTraining"] = "activityTrigger",
        ["EvaluateCandidateFold"] = "activityTrigger",
        ["EvaluateCandidateFolds"] = "activityTrigger",
        ["TrainFinalModel"] = "activityTrigger",
        ["RegisterModelVersion"] = "activityTrigger",
        ["EnqueueHeavyTraining"] = "activityTrigger",
        ["ReadHeavyTrainingResult"] = "activityTrigger",
        ["DeadLetterHeavyTraining"] = "activityTrigger",
        ["CompleteHeavyTraining"] = "httpTrigger training/jobs/{runId}/complete",
        ["StartTrainingRun"] = "activityTrigger",
        ["BatchScoringOrchestrator"] = "orchestrationTrigger",
        ["PlanBatchScoring"] = "activityTrigger",
        ["ScoreBatchChunk"] = "activityTrigger",
        ["CommitBatchScoring"] = "activityTrigger",
        ["ReportBatchScoring"] = "activityTrigger",
        ["ListDatasets"] = "httpTrigger tenants/{tenant}/datasets",
        ["GetDataset"] = "httpTrigger tenants/{tenant}/datasets/{dataset}",
        ["GetRun"] = "httpTrigger runs/{runId}",
        ["CancelRun"] = "httpTrigger runs/{runId}/cancel",
        ["ReceiveBlobCreated"] = "httpTrigger events/blob-created",
        ["IngestOrchestrator"] = "orchestrationTrigger",
        ["ReserveIngestSlot"] = "activityTrigger",
        ["ReleaseIngestSlot"] = "activityTrigger",
        ["AnalyzeSource"] = "activityTrigger",
        ["CleanSource"] = "activityTrigger",
        ["PublishDatasetVersion"] = "activityTrigger",
        ["RejectSource"] = "activityTrigger",
        ["ProposeCollaboration"] = "httpTrigger collaborations",
        ["ListCollaborations"] = "httpTrigger collaborations",
        ["GetCollaboration"] = "httpTrigger collaborations/{collaboration}",
        ["AcceptCollaboration"] = "httpTrigger collaborations/{collaboration}/accept",
        ["ChangeCollaboration"] = "httpTrigger collaborations/{collaboration}",
        ["LeaveCollaboration"] = "httpTrigger collaborations/{collaboration}/leave",
        ["GetCollaborationData"] = "httpTrigger collaborations/{collaboration}/data",
        ["StartCollaborationTraining"] = "httpTrigger collaborations/{collaboration}/models",
        ["GetCollaborationModel"] = "httpTrigger collaborations/{collaboration}/models/{model}",
        ["GetCollaborationModelOnnx"] = "httpTrigger collaborations/{collaboration}/models/{model}/versions/{version}/onnx",
        ["PredictCollaboration"] = "httpTrigger collaborations/{collaboration}/models/{model}/predict",
        ["PredictCollaborationVersion"] = "httpTrigger collaborations/{collaboration}/models/{model}/versions/{version}/predict",
        ["StartContributions"] = "httpTrigger collaborations/{collaboration}/models/{model}/contributions",
        ["ListContributions"] = "httpTrigger collaborations/{collaboration}/models/{model}/contributions",
        ["GetContributions"] = "httpTrigger collaborations/{collaboration}/models/{model}/contributions/{contribution}",
        ["VerifyContributions"] = "httpTrigger collaborations/{collaboration}/models/{model}/contributions/{contribution}/verify",
        ["GetLedger"] = "httpTrigger collaborations/{collaboration}/ledger",
        ["SettleCollaboration"] = "httpTrigger collaborations/{collaboration}/settlements",
        ["ContributionOrchestrator"] = "orchestrationTrigger",
        ["UpdateModel"] = "httpTrigger tenants/{tenant}/models/{model}/update",
        ["FederatedOrchestrator"] = "orchestrationTrigger",
        ["PrepareFederatedRun"] = "activityTrigger",
        ["ComputeMemberStatistics"] = "activityTrigger",
        ["PublishMemberKey"] = "activityTrigger",
        ["InitializeFederatedModel"] = "activityTrigger",
        ["TrainMemberRound"] = "activityTrigger",
        ["AggregateFederatedRound"] = "activityTrigger",
        ["SummarizeFederatedEvaluation"] = "activityTrigger",
        ["RegisterFederatedModel"] = "activityTrigger",
        ["EvaluateFederatedCoalitions"] = "activityTrigger",
        ["OnlineUpdateOrchestrator"] = "orchestrationTrigger",
        ["StartOnlineUpdateRun"] = "activityTrigger",
        ["TrainOnlineUpdate"] = "activityTrigger",
        ["RegisterOnlineUpdate"] = "activityTrigger",
        ["PrepareContributionRun"] = "activityTrigger",
        ["EvaluateCoalition"] = "activityTrigger",
        ["StoreContributionReport"] = "activityTrigger",
    };

    [Fact]
    public void FunctionsMetadata_Build_ListsEveryFunctionWithItsTrigger()
    {
        // Arrange: the file the Functions build writes next to the function app, which the Azure host reads.
        string path = Path.Combine(Path.GetDirectoryName(typeof(LeptonFunctionApp).Assembly.Location)!, "functions.metadata");
        using JsonDocument metadata = JsonDocument.Parse(File.ReadAllText(path));

        // Act
        var actual = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonElement function in metadata.RootElement.EnumerateArray())
        {
            JsonElement trigger = function.GetProperty("bindings").EnumerateArray()
                .Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            string route = trigger.TryGetProperty("route", out JsonElement r) ? " " + r.GetString() : "";
            actual[function.GetProperty("name").GetString()!] = trigger.GetProperty("type").GetString() + route;
        }

        // Assert
        Assert.Equal(Expected, actual);
    }

    [Fact]
    public void Discover_FunctionApp_FindsTheSameFunctionsAsTheMetadata()
    {
        IReadOnlyList<FunctionDescriptor> functions = FunctionCatalog.Discover(typeof(LeptonFunctionApp).Assembly);

        Assert.Equal(Expected.Keys, functions.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(AuthorizationLevel.Function, functions.Single(f => f.Name == "ReceiveBlobCreated").AuthLevel);
        Assert.Equal(AuthorizationLevel.Function, functions.Single(f => f.Name == "CompleteHeavyTraining").AuthLevel);
    }

    [Fact]
    public void Discover_UnsupportedBinding_NamesFunctionAndBinding()
    {
        var e = Assert.Throws<UnsupportedFunctionException>(() => FunctionCatalog.Discover([typeof(FunctionWithQueueBinding)]));

        Assert.Contains("'ReadQueue'", e.Message);
        Assert.Contains("'QueueLikeTrigger'", e.Message);
    }

    public sealed class QueueLikeTriggerAttribute : TriggerBindingAttribute;

    public static class FunctionWithQueueBinding
    {
        [Function("ReadQueue")]
        public static void Run([QueueLikeTrigger] string message) => _ = message;
    }
}
