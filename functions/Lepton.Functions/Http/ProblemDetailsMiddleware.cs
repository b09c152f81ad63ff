using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace Lepton.Functions.Http;

/// <summary>Turns exceptions escaping HTTP functions into problem+json (see <see cref="ProblemMapping"/>).</summary>
public sealed partial class ProblemDetailsMiddleware(ILogger<ProblemDetailsMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>Where the response goes: the invocation's result in the worker. A seam for unit tests, which cannot build the worker's binding feature.</summary>
    internal Action<FunctionContext, object> SetResult { get; init; } = static (context, result) => context.GetInvocationResult().Value = result;

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (context.GetHttpContext() is not null)
        {
            if (!ProblemMapping.IsExpected(e))
            {
                LogUnhandled(e, context.FunctionDefinition.Name);
            }

            SetResult(context, ProblemMapping.ToResult(e));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} failed")]
    private partial void LogUnhandled(Exception exception, string function);
}
