using System.Text.Json;
using Lepton.Errors;
using Lepton.Prediction;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Lepton.Functions.Http;

/// <summary>The predict routes' one HTTP shape: bounded body, request timeout, usage metered to the calling tenant.</summary>
public static class PredictionHttp
{
    /// <param name="owner">Whose model: the route's tenant, or a collaboration's namespace.</param>
    public static async Task<IActionResult> ScoreAsync(
        HttpRequest request, PredictionService predictions, PredictionOptions options, string owner, string model, int? version, CancellationToken ct)
    {
        using JsonDocument body = await request.ReadJsonDocumentAsync(options.MaxBodyBytes, ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.RequestTimeout);
        try
        {
            Caller caller = request.Caller();
            return new PredictionResult(await predictions.PredictAsync(owner, model, version, body.RootElement, caller.TenantId!, caller.KeyId!, timeout.Token));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw LeptonException.Unavailable($"Scoring took longer than {options.RequestTimeout.TotalSeconds:N0} s; try fewer rows.");
        }
    }
}

/// <summary>Route values that are numbers: one parse, one error.</summary>
public static class RouteValues
{
    public static int Version(string text) =>
        int.TryParse(text, out int v) && v > 0 ? v : throw LeptonException.BadRequest("'version' must be a positive whole number.");
}

/// <summary>The one answer to a request that started a durable run: 202, where to follow it, and any links the caller needs.</summary>
public static class RunAccepted
{
    public static AcceptedResult For(string runId, string? reportUrl = null) =>
        new($"/api/runs/{runId}", new RunReceipt(runId, $"/api/runs/{runId}", reportUrl));
}
