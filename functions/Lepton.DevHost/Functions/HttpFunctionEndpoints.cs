using System.Security.Cryptography;
using System.Text;
using Lepton.Functions.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Lepton.DevHost.Functions;

/// <summary>
/// Serves the function app's HTTP functions under /{routePrefix}/{route} as the Functions host does, including its
/// function-key check for AuthorizationLevel.Function routes ("code" query or "x-functions-key" header), its empty 401
/// without that key, and its 404 for a method a route does not map.
/// </summary>
public static partial class HttpFunctionEndpoints
{
    // Results execute outside MVC's actions; one empty descriptor serves them all (each new one draws a Guid).
    private static readonly ActionDescriptor NoAction = new();

    /// <param name="routePrefix">host.json's extensions.http.routePrefix, as the Functions host reads it.</param>
    public static void Map(WebApplication app, IEnumerable<FunctionDescriptor> functions, string functionKey, string routePrefix)
    {
        // The Functions host answers 404 to a known route with a method it does not map; ASP.NET Core routing would say 405.
        app.Use(async (context, next) =>
        {
            // Routing selects its own "405 HTTP Method Not Supported" endpoint for such a request.
            if (context.GetEndpoint()?.DisplayName?.StartsWith("405 ", StringComparison.Ordinal) == true)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
        string prefix = routePrefix.Trim('/') is { Length: > 0 } p ? "/" + p : "";
        // Made once: the factory takes a lock for every logger it hands out.
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lepton.DevHost.Http");
        foreach (FunctionDescriptor function in functions.Where(f => f.Kind == FunctionKind.Http))
        {
            app.MapMethods($"{prefix}/{function.Route}", function.HttpMethods!, context => HandleAsync(context, function, functionKey, logger))
                .WithName(function.Name);
        }
    }

    private static async Task HandleAsync(HttpContext context, FunctionDescriptor function, string functionKey, ILogger logger)
    {
        IActionResult result;
        if (function.AuthLevel != AuthorizationLevel.Anonymous && !HasFunctionKey(context.Request, functionKey))
        {
            // As the Functions host: an empty 401, before any of the app's code runs.
            result = new UnauthorizedResult();
        }
        else
        {
            try
            {
                await FunctionAuthorization.AuthorizeAsync(function.Method, context);
                object?[] arguments = function.Parameters.Select(p => Bind(p, context)).ToArray();
                result = (IActionResult)(await FunctionInvoker.InvokeAsync(function, context.RequestServices, arguments))!;
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested || ProblemMapping.IsExpected(e))
            {
                if (!ProblemMapping.IsExpected(e))
                {
                    LogUnhandled(logger, e, function.Name);
                }

                result = ProblemMapping.ToResult(e);
            }
        }

        await result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), NoAction));
    }

    private static object? Bind(ParameterBinding parameter, HttpContext context) => parameter.Source switch
    {
        ParameterSource.HttpRequest => context.Request,
        ParameterSource.RouteValue => context.Request.RouteValues[parameter.Name]?.ToString(),
        ParameterSource.DurableClient => context.RequestServices.GetRequiredService<DurableTaskClient>(),
        ParameterSource.CancellationToken => context.RequestAborted,
        _ => throw new InvalidOperationException($"Parameter source {parameter.Source} does not apply to HTTP functions."),
    };

    private static bool HasFunctionKey(HttpRequest request, string functionKey)
    {
        string? presented = request.Query["code"].FirstOrDefault() ?? request.Headers["x-functions-key"].FirstOrDefault();
        return presented is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(functionKey)));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} failed")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string function);
}
