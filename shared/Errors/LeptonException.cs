namespace Lepton.Errors;

/// <summary>What went wrong, in terms a caller can act on; the HTTP layer maps each kind to one status.</summary>
public enum ErrorKind
{
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    Unavailable,
    TooManyRequests,
    Gone,
}

/// <summary>
/// An expected failure caused by the caller or the platform's state. Its message is written for the caller
/// and is safe to return; anything else that escapes a function is an internal error and is never echoed.
/// </summary>
public sealed class LeptonException(ErrorKind kind, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(detail)
{
    public ErrorKind Kind { get; } = kind;

    public string Title { get; } = title;

    public IReadOnlyDictionary<string, object?> Extensions { get; } = extensions ?? new Dictionary<string, object?>();

    public static LeptonException BadRequest(string detail, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(ErrorKind.BadRequest, "The request is not valid.", detail, extensions);

    public static LeptonException Unauthorized(string detail) =>
        new(ErrorKind.Unauthorized, "Authentication is required.", detail);

    public static LeptonException Forbidden(string detail) =>
        new(ErrorKind.Forbidden, "The caller may not do this.", detail);

    public static LeptonException NotFound(string detail) =>
        new(ErrorKind.NotFound, "Not found.", detail);

    public static LeptonException Conflict(string detail) =>
        new(ErrorKind.Conflict, "Conflict.", detail);

    public static LeptonException TooLarge(string detail) =>
        new(ErrorKind.PayloadTooLarge, "The request is too large.", detail);

    /// <summary>Rate limited; <c>retryAfterSeconds</c> travels in the extensions and becomes the Retry-After header.</summary>
    /// <param name="whose">Whose budget is spent, as the caller should read it.</param>
    public static LeptonException TooManyRequests(int retryAfterSeconds, string whose = KeyBudgetSpent) =>
        new(ErrorKind.TooManyRequests, "Too many requests.", $"{whose}; retry after {retryAfterSeconds} s.",
            new Dictionary<string, object?> { [RetryAfterKey] = retryAfterSeconds });

    public const string RetryAfterKey = "retryAfter";

    /// <summary>Whose budget a 429 names by default: the presented key's.</summary>
    public const string KeyBudgetSpent = "This API key sent too many requests";

    /// <summary>The resource existed and was withdrawn for good (a model version whose data grant was revoked).</summary>
    public static LeptonException Gone(string detail) =>
        new(ErrorKind.Gone, "No longer available.", detail);

    public static LeptonException Unavailable(string detail) =>
        new(ErrorKind.Unavailable, "The service cannot do this now.", detail);
}
