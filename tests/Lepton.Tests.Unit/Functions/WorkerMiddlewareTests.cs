using Lepton.Configuration;
using Lepton.Errors;
using Lepton.Functions.Functions;
using Lepton.Functions.Http;
using Lepton.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Lepton.Tests.Unit.Functions;

/// <summary>The worker middlewares run only under the Functions host in Azure; these tests drive them with a mocked context.</summary>
public class WorkerMiddlewareTests
{
    // The ASP.NET Core integration keeps the request's HttpContext under this key of FunctionContext.Items.
    private const string HttpContextKey = "HttpRequestContext";

    private static Mock<FunctionContext> Context(string entryPoint, HttpContext? http)
    {
        var definition = new Mock<FunctionDefinition>();
        definition.SetupGet(d => d.EntryPoint).Returns(entryPoint);
        definition.SetupGet(d => d.Name).Returns(entryPoint.Split('.')[^1]);
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.FunctionDefinition).Returns(definition.Object);
        context.SetupGet(c => c.Items).Returns(http is null ? new Dictionary<object, object>() : new Dictionary<object, object> { [HttpContextKey] = http });
        return context;
    }

    private static DefaultHttpContext Http()
    {
        // A missing key fails before any store is touched, so the policy needs no storage here.
        var policy = new AccessPolicy(null!, null!, null!, null!, null!, null!, Options.Create(new LeptonOptions { AdminKey = "admin-key-0123456789" }),
            Options.Create(new RateLimitOptions()), TimeProvider.System);
        return new DefaultHttpContext { RequestServices = new ServiceCollection().AddSingleton(policy).BuildServiceProvider() };
    }

    [Fact]
    public async Task AuthorizationMiddleware_ApiKeyRouteWithoutKey_StopsBeforeTheFunction()
    {
        // Arrange
        Mock<FunctionContext> context = Context($"{typeof(RunFunctions).FullName}.{nameof(RunFunctions.GetRun)}", Http());
        bool ran = false;

        // Act
        var error = await Assert.ThrowsAsync<LeptonException>(() => new AuthorizationMiddleware().Invoke(context.Object, _ => { ran = true; return Task.CompletedTask; }));

        // Assert
        Assert.Equal(ErrorKind.Unauthorized, error.Kind);
        Assert.False(ran);
    }

    [Fact]
    public async Task AuthorizationMiddleware_OpenRouteOrNonHttpTrigger_RunsTheFunction()
    {
        int ran = 0;

        await new AuthorizationMiddleware().Invoke(Context($"{typeof(HealthFunctions).FullName}.{nameof(HealthFunctions.GetHealth)}", Http()).Object, _ => { ran++; return Task.CompletedTask; });
        await new AuthorizationMiddleware().Invoke(Context($"{typeof(RunFunctions).FullName}.{nameof(RunFunctions.GetRun)}", null).Object, _ => { ran++; return Task.CompletedTask; });

        Assert.Equal(2, ran);
    }

    [Fact]
    public async Task ProblemDetailsMiddleware_FunctionThrowsExpectedError_AnswersProblemJson()
    {
        // Arrange
        Mock<FunctionContext> context = Context("Lepton.Functions.Functions.X.Y", Http());
        object? result = null;
        var middleware = new ProblemDetailsMiddleware(NullLogger<ProblemDetailsMiddleware>.Instance) { SetResult = (_, r) => result = r };

        // Act
        await middleware.Invoke(context.Object, _ => throw LeptonException.NotFound("No such resource."));

        // Assert
        ProblemDetails problem = Assert.IsType<ProblemDetails>(Assert.IsAssignableFrom<ObjectResult>(result).Value);
        Assert.Equal((404, "No such resource."), (problem.Status!.Value, problem.Detail));
    }

    [Fact]
    public async Task ProblemDetailsMiddleware_NonHttpFunctionThrows_LetsTheHostSeeTheFailure()
    {
        // An activity's exception must reach the durable engine (retries, failure details), not become an HTTP response.
        var middleware = new ProblemDetailsMiddleware(NullLogger<ProblemDetailsMiddleware>.Instance) { SetResult = (_, _) => throw new InvalidOperationException("no HTTP here") };

        await Assert.ThrowsAsync<TimeoutException>(() => middleware.Invoke(Context("Lepton.Functions.Functions.X.Y", null).Object, _ => throw new TimeoutException()));
    }
}
