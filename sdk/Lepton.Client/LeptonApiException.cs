using System.Net;
using System.Text.Json;

namespace Lepton.Client;

/// <summary>An error the API answered with problem+json; <see cref="Detail"/> is the platform's explanation.</summary>
public class LeptonApiException(HttpStatusCode status, string? title, string? detail, JsonElement? problem)
    : Exception(detail ?? title ?? $"The Lepton API answered {(int)status}.")
{
    public HttpStatusCode Status { get; } = status;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    /// <summary>The whole problem document (extensions such as per-row errors included), when there was one.</summary>
    public JsonElement? Problem { get; } = problem;

    internal static LeptonApiException From(HttpStatusCode status, string? title, string? detail, JsonElement? problem, TimeSpan? retryAfter) => status switch
    {
        HttpStatusCode.BadRequest => new LeptonValidationException(title, detail, problem),
        HttpStatusCode.Unauthorized => new LeptonUnauthorizedException(title, detail, problem),
        HttpStatusCode.Forbidden => new LeptonForbiddenException(title, detail, problem),
        HttpStatusCode.NotFound => new LeptonNotFoundException(title, detail, problem),
        HttpStatusCode.Conflict => new LeptonConflictException(title, detail, problem),
        HttpStatusCode.RequestEntityTooLarge => new LeptonPayloadTooLargeException(title, detail, problem),
        HttpStatusCode.TooManyRequests => new LeptonRateLimitedException(title, detail, problem, retryAfter),
        _ => new LeptonApiException(status, title, detail, problem),
    };
}

/// <summary>400: the request is not valid (the detail says which field; predictions carry per-row errors in <see cref="LeptonApiException.Problem"/>).</summary>
public sealed class LeptonValidationException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.BadRequest, title, detail, problem);

/// <summary>401: no key, or a key that is unknown, revoked or expired, or a disabled tenant's.</summary>
public sealed class LeptonUnauthorizedException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.Unauthorized, title, detail, problem);

/// <summary>403: the key's roles do not allow this.</summary>
public sealed class LeptonForbiddenException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.Forbidden, title, detail, problem);

/// <summary>404: no such resource — or another tenant's, which the API never tells apart.</summary>
public sealed class LeptonNotFoundException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.NotFound, title, detail, problem);

/// <summary>409: the resource's state does not allow it (exists already, run ended, collaboration not active, ...).</summary>
public sealed class LeptonConflictException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.Conflict, title, detail, problem);

/// <summary>413: the body is over the limit (1 MB JSON, 8 MB predictions, 1,000 rows).</summary>
public sealed class LeptonPayloadTooLargeException(string? title, string? detail, JsonElement? problem) : LeptonApiException(HttpStatusCode.RequestEntityTooLarge, title, detail, problem);

/// <summary>429 that persisted through the client's retries.</summary>
public sealed class LeptonRateLimitedException(string? title, string? detail, JsonElement? problem, TimeSpan? retryAfter)
    : LeptonApiException(HttpStatusCode.TooManyRequests, title, detail, problem)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
