using System.Reflection;
using Lepton.Errors;
using Lepton.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Lepton.Functions.Http;

/// <summary>
/// The one mapping from exceptions to HTTP: RFC 7807 problem+json. Used by the worker middleware in Azure and by the
/// dev host, so both answer the same. Unexpected exceptions become a 500 that reveals nothing of the internals.
/// </summary>
public static class ProblemMapping
{
    public const string ContentType = "application/problem+json";

    public static int StatusFor(ErrorKind kind) => kind switch
    {
        ErrorKind.BadRequest => StatusCodes.Status400BadRequest,
        ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorKind.TooManyRequests => StatusCodes.Status429TooManyRequests,
        ErrorKind.Gone => StatusCodes.Status410Gone,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>True when the exception is a caller's or the platform's expected error, not a bug.</summary>
    public static bool IsExpected(Exception exception) => Unwrap(exception) is LeptonException or BadHttpRequestException;

    public static IActionResult ToResult(Exception exception)
    {
        ProblemDetails problem = Unwrap(exception) switch
        {
            LeptonException e => Create(StatusFor(e.Kind), e.Title, e.Message, e.Extensions),
            BadHttpRequestException e => Create(e.StatusCode, "The request is not valid.", e.Message),
            Exception e when IsStorageOutage(e) => Create(StatusCodes.Status503ServiceUnavailable, "Storage is unavailable.",
                "The platform cannot reach its storage right now. Try again shortly: a change this request asked for may not have been made.",
                new Dictionary<string, object?> { [LeptonException.RetryAfterKey] = OutageRetryAfterSeconds }),
            _ => Create(StatusCodes.Status500InternalServerError, "An internal error occurred.",
                "The platform failed to handle this request; it was logged. Try again, or report the time of the failure."),
        };
        string? retryAfter = problem.Extensions.TryGetValue(LeptonException.RetryAfterKey, out object? seconds) ? seconds?.ToString() : null;
        return new ProblemResult(problem, retryAfter);
    }

    /// <summary>problem+json, with Retry-After when the problem says when to retry.</summary>
    private sealed class ProblemResult(ProblemDetails problem, string? retryAfter) : ObjectResult(problem)
    {
        public override Task ExecuteResultAsync(ActionContext context)
        {
            StatusCode = problem.Status;
            ContentTypes.Add(ContentType);
            if (retryAfter is not null)
            {
                context.HttpContext.Response.Headers.RetryAfter = retryAfter;
            }

            return base.ExecuteResultAsync(context);
        }
    }

    private static ProblemDetails Create(int status, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" };
        foreach ((string key, object? value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }

        return problem;
    }

    /// <summary>How long a caller is asked to wait when storage is away.</summary>
    public const int OutageRetryAfterSeconds = 5;

    /// <summary>Storage away for now (<see cref="StorageFaults.IsOutage"/>): 503 with Retry-After rather than 500.</summary>
    public static bool IsStorageOutage(Exception exception) => StorageFaults.IsOutage(exception);

    private static Exception Unwrap(Exception exception) => StorageFaults.Unwrap(exception);
}
