using System.Text.Json;
using Lepton.DevHost.Functions;
using Microsoft.DurableTask;

namespace Lepton.DevHost.Durable;

/// <summary>Registers the function app's orchestrator and activity functions with the Durable Task worker under their function names.</summary>
public static class FunctionTasks
{
    public static void Register(DurableTaskRegistry registry, IEnumerable<FunctionDescriptor> functions, Func<IServiceProvider> rootServices)
    {
        foreach (FunctionDescriptor function in functions)
        {
            switch (function.Kind)
            {
                case FunctionKind.Orchestrator:
                    registry.AddOrchestrator(function.Name, () => new FunctionOrchestrator(function, rootServices()));
                    break;
                case FunctionKind.Activity:
                    registry.AddActivity(function.Name, services => new FunctionActivity(function, services));
                    break;
            }
        }
    }
}

/// <summary>
/// Runs an orchestrator function. The worker hands over the input as a JSON element; the function reads it with
/// GetInput&lt;T&gt;() as it does in Azure, which <see cref="InputBindingContext"/> makes work for any T.
/// </summary>
internal sealed class FunctionOrchestrator(FunctionDescriptor function, IServiceProvider services) : ITaskOrchestrator
{
    public Type InputType => typeof(JsonElement?);

    public Type OutputType => function.OutputType;

    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
        FunctionInvoker.InvokeAsync(function, services, [new InputBindingContext(context, input as JsonElement?)]);
}

internal sealed class FunctionActivity(FunctionDescriptor function, IServiceProvider services) : ITaskActivity
{
    public Type InputType => function.InputType ?? typeof(object);

    public Type OutputType => function.OutputType;

    public Task<object?> RunAsync(TaskActivityContext context, object? input)
    {
        object?[] arguments = function.Parameters.Select(p => p.Source switch
        {
            ParameterSource.ActivityInput => input,
            ParameterSource.CancellationToken => (object?)CancellationToken.None,
            ParameterSource.DurableClient => services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>(),
            _ => throw new InvalidOperationException($"Parameter source {p.Source} does not apply to activities."),
        }).ToArray();
        return FunctionInvoker.InvokeAsync(function, services, arguments);
    }
}
