using Lepton.Functions.Http;
using Lepton.Datasets;
using Lepton.Errors;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public sealed class DatasetFunctions(DatasetQueries datasets)
{
    [Function(nameof(ListDatasets))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.DatasetList))]
    [RequiresAction(LeptonAction.ReadDatasets)]
    public async Task<IActionResult> ListDatasets(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/datasets")] HttpRequest request, string tenant, CancellationToken ct)
    {
        return new OkObjectResult(new DatasetList(await datasets.ListAsync(tenant, ct)));
    }

    /// <summary>Versions, runs and rejections; schema, profile, quality and lineage of the latest version or of ?version=N.</summary>
    [Function(nameof(GetDataset))]
    [OpenApiResponse(typeof(Lepton.Datasets.DatasetDetail))]
    [OpenApiQuery("version", "a version (default: the latest)")]
    [RequiresAction(LeptonAction.ReadDatasets)]
    public async Task<IActionResult> GetDataset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tenants/{tenant}/datasets/{dataset}")] HttpRequest request,
        string tenant, string dataset, CancellationToken ct)
    {
        string? versionText = request.Query["version"].FirstOrDefault();
        int? version = versionText is null ? null
            : int.TryParse(versionText, out int v) && v > 0 ? v : throw LeptonException.BadRequest("'version' must be a positive whole number.");
        return new OkObjectResult(await datasets.GetAsync(tenant, dataset, version, ct));
    }
}
