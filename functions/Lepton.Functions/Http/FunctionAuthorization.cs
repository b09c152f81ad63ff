using System.Reflection;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Functions.Http;

/// <summary>
/// Authorizes an HTTP function before it runs, from its [RequiresAction] and the {tenant} or {collaboration} route value, through the one
/// <see cref="AccessPolicy"/>. Called by the worker middleware in Azure and by the dev host, so no function checks anything itself.
/// Functions without the attribute (health, the Event Grid webhook) are not API-key routes.
/// </summary>
public static class FunctionAuthorization
{
    private const string CallerItem = "lepton.caller";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MethodInfo, RequiresActionAttribute?> Requirements = new();

    public static async Task AuthorizeAsync(MethodInfo function, HttpContext http)
    {
        if (Requirements.GetOrAdd(function, static m => m.GetCustomAttribute<RequiresActionAttribute>()) is not { } requirement)
        {
            return;
        }

        AccessPolicy policy = http.RequestServices.GetRequiredService<AccessPolicy>();
        string? key = http.Request.Headers[AccessPolicy.ApiKeyHeader].FirstOrDefault();
        string client = ClientAddress(http);
        http.Items[CallerItem] = http.GetRouteValue("collaboration") is string collaboration
            ? await policy.AuthorizeCollaborationRequestAsync(key, requirement.Action, collaboration, http.RequestAborted, client)
            : await policy.AuthorizeRequestAsync(key, requirement.Action, http.GetRouteValue("tenant") as string, http.RequestAborted, client);
    }

    /// <summary>
    /// Where the request came from, for throttling failed keys: behind Azure's front ends the connection is the platform's
    /// own, and the front end appends the address it saw to X-Forwarded-For — the last entry, which a client cannot forge.
    /// </summary>
    private static string ClientAddress(HttpContext http) =>
        http.Request.Headers["X-Forwarded-For"].LastOrDefault()?.Split(',')[^1].Trim() is { Length: > 0 } forwarded
            ? forwarded
            : http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>The authorized caller of this request.</summary>
    public static Caller Caller(this HttpRequest request) =>
        request.HttpContext.Items[CallerItem] as Caller ?? throw new InvalidOperationException("The function has no [RequiresAction]: no caller was authorized.");
}
