using System.Collections.Concurrent;
using System.Reflection;

namespace Lepton.DevHost.Functions;

/// <summary>Calls a [Function] method the way the Functions worker does: a fresh instance from DI per invocation, awaited result.</summary>
public static class FunctionInvoker
{
    private static readonly ConcurrentDictionary<Type, ObjectFactory> Factories = new();
    private static readonly ConcurrentDictionary<Type, Func<Task, object?>> ResultReaders = new();

    public static async Task<object?> InvokeAsync(FunctionDescriptor function, IServiceProvider services, object?[] arguments)
    {
        MethodInfo method = function.Method;
        object? instance = method.IsStatic
            ? null
            : Factories.GetOrAdd(method.DeclaringType!, t => ActivatorUtilities.CreateFactory(t, Type.EmptyTypes))(services, null);
        try
        {
            object? returned = method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, arguments, null);
            return returned switch
            {
                Task task => await AwaitTask(task),
                ValueTask valueTask => await AwaitValueTask(valueTask),
                _ when returned?.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(ValueTask<>) =>
                    await AwaitTask((Task)t.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(returned, null)!),
                _ => returned,
            };
        }
        finally
        {
            if (instance is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (instance is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    private static async Task<object?> AwaitTask(Task task)
    {
        await task;
        return ResultReaders.GetOrAdd(task.GetType(), ResultReader)(task);
    }

    /// <summary>Reads a finished task's result; looked up once per task type (reflection per call cost every request a few microseconds).</summary>
    private static Func<Task, object?> ResultReader(Type type)
    {
        if (!type.IsGenericType || type.GetGenericArguments()[0].Name == "VoidTaskResult")
        {
            return static _ => null;
        }

        PropertyInfo result = type.GetProperty(nameof(Task<int>.Result))!;
        return task => result.GetValue(task);
    }

    private static async Task<object?> AwaitValueTask(ValueTask task)
    {
        await task;
        return null;
    }
}
