using Lepton.Functions.Http;
using Lepton.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public sealed class HealthFunctions(StorageClients storage)
{
    private static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Liveness plus the platform storage the registry depends on; 503 when storage is unreachable.</summary>
    [Function(nameof(GetHealth))]
    [OpenApiResponse(typeof(Lepton.Functions.Http.HealthReport))]
    public async Task<IActionResult> GetHealth(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken ct)
    {
        string storageStatus;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HealthTimeout);
        try
        {
            await storage.PlatformTables.GetPropertiesAsync(timeout.Token);
            storageStatus = "ok";
        }
        catch (Exception e) when (!ct.IsCancellationRequested && (StorageFaults.IsOutage(e) || e is Azure.RequestFailedException))
        {
            // Unreachable or too slow: a health probe must answer within its own deadline, not hang with storage.
            storageStatus = "unreachable";
        }

        bool healthy = storageStatus == "ok";
        return new ObjectResult(new Lepton.Functions.Http.HealthReport(healthy ? "healthy" : "unhealthy", new Lepton.Functions.Http.HealthChecks(storageStatus)))
        {
            StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
        };
    }

    /// <summary>The OpenAPI 3 description of the API, generated from these functions (anonymous: it describes, it grants nothing).</summary>
    [Function(nameof(GetOpenApi))]
    public static IActionResult GetOpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request) =>
        new ContentResult { Content = Lepton.Functions.Http.OpenApiDescription.AsJson, ContentType = "application/json", StatusCode = StatusCodes.Status200OK };
}
