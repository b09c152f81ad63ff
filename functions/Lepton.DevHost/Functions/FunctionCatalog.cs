using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Lepton.DevHost.Functions;

public enum ParameterSource
{
    HttpRequest,
    RouteValue,
    DurableClient,
    CancellationToken,
    OrchestrationContext,
    ActivityInput,
}

public sealed record ParameterBinding(string Name, Type Type, ParameterSource Source);

public enum FunctionKind
{
    Http,
    Orchestrator,
    Activity,
}

/// <summary>One [Function] method of the function app and how the dev host binds its parameters.</summary>
public sealed record FunctionDescriptor(
    string Name,
    FunctionKind Kind,
    MethodInfo Method,
    IReadOnlyList<ParameterBinding> Parameters,
    string? Route = null,
    IReadOnlyList<string>? HttpMethods = null,
    AuthorizationLevel AuthLevel = AuthorizationLevel.Anonymous)
{
    public Type? InputType => Parameters.FirstOrDefault(p => p.Source == ParameterSource.ActivityInput)?.Type;

    /// <summary>T of Task&lt;T&gt;/ValueTask&lt;T&gt;, or the return type itself.</summary>
    public Type OutputType => Method.ReturnType is { IsGenericType: true } t &&
        (t.GetGenericTypeDefinition() == typeof(Task<>) || t.GetGenericTypeDefinition() == typeof(ValueTask<>))
            ? t.GetGenericArguments()[0]
            : Method.ReturnType == typeof(Task) || Method.ReturnType == typeof(ValueTask) ? typeof(object) : Method.ReturnType;
}

/// <summary>Raised at start-up when the function app uses something the dev host cannot run; the message names the function and binding.</summary>
public sealed class UnsupportedFunctionException(string message) : Exception(message);

/// <summary>
/// Discovers the function app's [Function] methods from its trigger attributes, the same facts the Functions build writes to
/// functions.metadata. Nothing is listed twice: routes and handlers come only from the function app's own code.
/// </summary>
public static class FunctionCatalog
{
    public const string Supported =
        "HttpTrigger (HttpRequest, returning IActionResult), OrchestrationTrigger (TaskOrchestrationContext), ActivityTrigger, DurableClient (DurableTaskClient), route values and CancellationToken";

    public static IReadOnlyList<FunctionDescriptor> Discover(Assembly assembly) => Discover(assembly.GetExportedTypes());

    public static IReadOnlyList<FunctionDescriptor> Discover(IEnumerable<Type> types)
    {
        var functions = new List<FunctionDescriptor>();
        foreach (Type type in types)
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is { } function)
                {
                    functions.Add(Describe(function.Name, method));
                }
            }
        }

        var duplicate = functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new UnsupportedFunctionException($"Two functions are named '{duplicate.Key}'.");
        }

        return functions;
    }

    private static FunctionDescriptor Describe(string name, MethodInfo method)
    {
        HttpTriggerAttribute? http = null;
        FunctionKind? kind = null;
        var bindings = new List<ParameterBinding>();
        foreach (ParameterInfo p in method.GetParameters())
        {
            string pName = p.Name ?? "";
            switch (p.GetCustomAttributes().OfType<BindingAttribute>().FirstOrDefault())
            {
                case HttpTriggerAttribute trigger:
                    Require(p.ParameterType == typeof(HttpRequest), name, pName, "HttpTrigger on a parameter that is not HttpRequest");
                    (http, kind) = (trigger, FunctionKind.Http);
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.HttpRequest));
                    break;
                case OrchestrationTriggerAttribute:
                    Require(p.ParameterType == typeof(TaskOrchestrationContext), name, pName, "OrchestrationTrigger on a parameter that is not TaskOrchestrationContext");
                    kind = FunctionKind.Orchestrator;
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.OrchestrationContext));
                    break;
                case ActivityTriggerAttribute:
                    kind = FunctionKind.Activity;
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.ActivityInput));
                    break;
                case DurableClientAttribute:
                    Require(p.ParameterType == typeof(DurableTaskClient), name, pName, "DurableClient on a parameter that is not DurableTaskClient");
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.DurableClient));
                    break;
                case { } other:
                    throw Unsupported(name, pName, $"binding '{other.GetType().Name.Replace("Attribute", "", StringComparison.Ordinal)}'");
                case null when p.ParameterType == typeof(CancellationToken):
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.CancellationToken));
                    break;
                case null when p.ParameterType == typeof(string):
                    bindings.Add(new ParameterBinding(pName, p.ParameterType, ParameterSource.RouteValue));
                    break;
                case null:
                    throw Unsupported(name, pName, $"parameter type '{p.ParameterType.Name}' without a binding");
            }
        }

        if (kind is null)
        {
            throw new UnsupportedFunctionException($"Function '{name}' has no trigger the dev host supports. Supported: {Supported}.");
        }

        if (kind == FunctionKind.Http)
        {
            var routeValues = bindings.Where(b => b.Source == ParameterSource.RouteValue).Select(b => b.Name);
            string route = http!.Route ?? name;
            foreach (string value in routeValues)
            {
                Require(route.Contains("{" + value, StringComparison.OrdinalIgnoreCase) || route.Contains("{*" + value, StringComparison.OrdinalIgnoreCase), name, value, $"a string parameter that is not a route value of '{route}'");
            }

            bool returnsAction = typeof(Microsoft.AspNetCore.Mvc.IActionResult).IsAssignableFrom(Unwrapped(method.ReturnType));
            Require(returnsAction, name, "return", $"return type '{method.ReturnType.Name}' (HTTP functions must return IActionResult)");
            string[] methods = (http.Methods ?? ["get", "post"]).Select(m => m.ToUpperInvariant()).ToArray();
            return new FunctionDescriptor(name, FunctionKind.Http, method, bindings, route, methods, http.AuthLevel);
        }

        return new FunctionDescriptor(name, kind.Value, method, bindings);
    }

    private static Type Unwrapped(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>))
            ? type.GetGenericArguments()[0]
            : type;

    private static void Require(bool condition, string function, string parameter, string what)
    {
        if (!condition)
        {
            throw Unsupported(function, parameter, what);
        }
    }

    private static UnsupportedFunctionException Unsupported(string function, string parameter, string what) =>
        new($"Function '{function}', parameter '{parameter}': the dev host does not support {what}. Supported: {Supported}.");
}
