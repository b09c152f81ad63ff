using System.Reflection;

namespace Lepton.Storage;

/// <summary>The one rule for telling "storage is away for now" from a bug.</summary>
public static class StorageFaults
{
    /// <summary>
    /// Storage that cannot be reached (connection refused, timeouts, 5xx after the SDK's own retries) is a temporary state
    /// of the platform, not a mistake in what was asked. A cancellation counts too: the SDK cancels an operation that passes
    /// its network timeout (storage that accepts connections and does not answer), with a token of its own, so callers
    /// rule out their own cancellation (the request aborted, the host stopping) before they ask.
    /// </summary>
    public static bool IsOutage(Exception exception) => Unwrap(exception) switch
    {
        Azure.RequestFailedException e => e.Status is 0 or >= 500,
        HttpRequestException or TimeoutException => true,
        OperationCanceledException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsOutage),
        _ => false,
    };

    public static Exception Unwrap(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => exception,
    };
}
