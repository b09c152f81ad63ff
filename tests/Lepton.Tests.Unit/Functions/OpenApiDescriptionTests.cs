using Lepton.Api;
using Lepton.Functions.Http;
using Lepton.Security;
using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Models;
using Microsoft.OpenApi.Readers;

namespace Lepton.Tests.Unit.Functions;

public class OpenApiDescriptionTests
{
    [Fact]
    public void AsJson_ReadBack_IsValidOpenApi3WithoutErrors()
    {
        OpenApiDocument read = new OpenApiStringReader().Read(OpenApiDescription.AsJson, out OpenApiDiagnostic diagnostic);

        Assert.Empty(diagnostic.Errors);
        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0, diagnostic.SpecificationVersion);
        Assert.Equal("Lepton API", read.Info.Title);
    }

    [Fact]
    public void Current_EveryHttpFunction_IsAnOperationOnItsRouteAndMethods()
    {
        OpenApiDocument document = OpenApiDescription.Current;
        var missing = new List<string>();
        foreach ((_, string name, Microsoft.Azure.Functions.Worker.HttpTriggerAttribute trigger) in OpenApiDescription.HttpFunctions())
        {
            foreach (string verb in trigger.Methods!)
            {
                if (!document.Paths.TryGetValue(OpenApiDescription.PathOf(trigger.Route!), out OpenApiPathItem? item)
                    || !item.Operations.TryGetValue(Enum.Parse<OperationType>(verb, true), out OpenApiOperation? operation) || operation.OperationId != name)
                {
                    missing.Add($"{verb} {trigger.Route} ({name})");
                }
            }
        }

        Assert.Empty(missing);
        Assert.True(document.Paths.Count >= 40, $"only {document.Paths.Count} paths");
    }

    [Fact]
    public void Current_ApiKeyRoutes_NameTheSchemeAndTheRoles()
    {
        OpenApiOperation issueKey = OpenApiDescription.Current.Paths["/tenants/{tenant}/keys"].Operations[OperationType.Post];

        Assert.Equal(OpenApiDescription.ApiKeyScheme, Assert.Single(Assert.Single(issueKey.Security).Keys).Reference.Id);
        var roles = Assert.IsType<OpenApiArray>(issueKey.Extensions["x-lepton-roles"]);
        Assert.Equal(AccessPolicy.RolesFor(LeptonAction.ManageKeys), roles.Select(r => ((OpenApiString)r).Value));
        Assert.Contains(Microsoft.AspNetCore.Http.StatusCodes.Status201Created.ToString(), issueKey.Responses.Keys);
        Assert.Equal(ProblemMapping.ContentType, Assert.Single(issueKey.Responses["default"].Content.Keys));
    }

    [Theory]
    [InlineData("/tenants/{tenant}/keys", OperationType.Post, "CreateKeyBody")]
    [InlineData("/tenants/{tenant}/models", OperationType.Post, "StartTrainingBody")]
    [InlineData("/collaborations", OperationType.Post, "CollaborationProposal")]
    [InlineData("/tenants/{tenant}/models/{model}/predict", OperationType.Post, "PredictBody")]
    public void Current_BodyRoutes_DescribeTheRecordTheFunctionReads(string path, OperationType verb, string schema)
    {
        OpenApiOperation operation = OpenApiDescription.Current.Paths[path].Operations[verb];

        Assert.Equal(schema, operation.RequestBody.Content["application/json"].Schema.Reference.Id);
        Assert.NotEmpty(OpenApiDescription.Current.Components.Schemas[schema].Properties);
    }

    [Fact]
    public void Current_EveryWritingRoute_HasABodyOrNeedsNone()
    {
        // Routes that change state without a body: revocations, accept/leave, signing, cancelling, reading with POST.
        string[] bodiless = ["RevokeKey", "RevokeGrant", "AcceptCollaboration", "LeaveCollaboration", "SignAuditHead", "CancelRun", "DeleteModel"];
        string[] missing = OpenApiDescription.HttpFunctions()
            .Where(f => f.Trigger.Methods!.Any(m => m is "post" or "put" or "patch") && OpenApiDescription.RequestBody(f.Method) is null && !bodiless.Contains(f.Name))
            .Select(f => f.Name).ToArray();

        Assert.Empty(missing);
    }
}
