using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Lepton.Functions.Http;

/// <summary>Runs <see cref="FunctionAuthorization"/> for every HTTP invocation in the Functions worker.</summary>
public sealed class AuthorizationMiddleware : IFunctionsWorkerMiddleware
{
    private static readonly ConcurrentDictionary<string, MethodInfo?> Methods = new();

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is { } http && Resolve(context.FunctionDefinition.EntryPoint) is { } method)
        {
            await FunctionAuthorization.AuthorizeAsync(method, http);
        }

        await next(context);
    }

    // EntryPoint is "Namespace.Type.Method" of a method in this assembly.
    private static MethodInfo? Resolve(string entryPoint) => Methods.GetOrAdd(entryPoint, static e =>
    {
        int dot = e.LastIndexOf('.');
        return typeof(AuthorizationMiddleware).Assembly.GetType(e[..dot])?.GetMethod(e[(dot + 1)..]);
    });
}
