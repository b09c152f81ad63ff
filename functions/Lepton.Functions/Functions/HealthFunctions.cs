using Lepton.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public sealed class HealthFunctions(StorageClients storage)
{
    /// <summary>Liveness plus the platform storage the registry depends on; 503 when storage is unreachable.</summary>
    [Function(nameof(GetHealth))]
    public async Task<IActionResult> GetHealth(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken ct)
    {
        string storageStatus;
        try
        {
            await storage.PlatformTables.GetPropertiesAsync(ct);
            storageStatus = "ok";
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or AggregateException)
        {
            storageStatus = "unreachable";
        }

        bool healthy = storageStatus == "ok";
        return new ObjectResult(new { status = healthy ? "healthy" : "unhealthy", checks = new { platformStorage = storageStatus } })
        {
            StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
        };
    }
}
