using Lepton.Functions.Http;
using Lepton.Orchestrations.Ingestion;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.Functions.Functions;

public sealed class EventFunctions(IngestStarter starter)
{
    /// <summary>
    /// Event Grid webhook for every tenant account: answers the subscription handshakes (Event Grid schema in the body,
    /// CloudEvents via OPTIONS) and starts one ingest run per new blob. Function-level key: the subscription URL carries it.
    /// </summary>
    [Function(nameof(ReceiveBlobCreated))]
    [OpenApiBody(typeof(System.Text.Json.JsonElement))]
    public async Task<IActionResult> ReceiveBlobCreated(
        [HttpTrigger(AuthorizationLevel.Function, "post", "options", Route = "events/blob-created")] HttpRequest request,
        [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        if (HttpMethods.IsOptions(request.Method))
        {
            request.HttpContext.Response.Headers["WebHook-Allowed-Origin"] = request.Headers["WebHook-Request-Origin"].FirstOrDefault() ?? "*";
            request.HttpContext.Response.Headers["WebHook-Allowed-Rate"] = "*";
            return new OkResult();
        }

        WebhookResult result = await starter.HandleAsync(client, await BinaryData.FromStreamAsync(request.Body, ct), ct);
        return result.ValidationCode is { } code
            ? new OkObjectResult(new { validationResponse = code })
            : new AcceptedResult((string?)null, new { runs = result.Runs, ignored = result.Ignored });
    }
}
