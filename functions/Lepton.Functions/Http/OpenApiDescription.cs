using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lepton.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Extensions;
using Microsoft.OpenApi.Models;

namespace Lepton.Functions.Http;

/// <summary>
/// The OpenAPI 3 description of the v1 API, generated from the function app itself: every [Function] with an HTTP
/// trigger (route, methods, authorization level), its [RequiresAction] (the x-api-key scheme and the roles it needs),
/// its request body (the type it reads with <see cref="RequestExtensions.ReadJsonBodyAsync{T}"/>, found in its IL, or
/// an <see cref="OpenApiBodyAttribute"/>), and its success status (the result type it creates). Errors are problem+json.
/// </summary>
public static partial class OpenApiDescription
{
    private static readonly Lazy<OpenApiDocument> Document = new(Build);
    private static readonly Lazy<string> Json = new(() => Document.Value.SerializeAsJson(OpenApiSpecVersion.OpenApi3_0));

    public static OpenApiDocument Current => Document.Value;

    public static string AsJson => Json.Value;

    /// <summary>The HTTP functions of the app, with their trigger.</summary>
    public static IEnumerable<(MethodInfo Method, string Name, HttpTriggerAttribute Trigger)> HttpFunctions() =>
        typeof(OpenApiDescription).Assembly.GetExportedTypes().SelectMany(t => t.GetMethods())
            .Select(m => (Method: m, Function: m.GetCustomAttribute<FunctionAttribute>(),
                Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.Function is not null && x.Trigger is not null)
            .Select(x => (x.Method, x.Function!.Name, Trigger: x.Trigger!))
            .OrderBy(x => x.Trigger.Route, StringComparer.Ordinal);

    private static OpenApiDocument Build()
    {
        var schemas = new SchemaRegistry();
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "Lepton API",
                Version = "v1",
                Description = "Cross-organization AI collaboration: tenants, datasets, training runs, models, predictions, collaborations, contributions and audit.",
            },
            Servers = [new OpenApiServer { Url = "/api" }],
            Paths = [],
            Components = new OpenApiComponents
            {
                SecuritySchemes = new Dictionary<string, OpenApiSecurityScheme>
                {
                    [ApiKeyScheme] = new() { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = AccessPolicy.ApiKeyHeader,
                        Description = "A tenant's API key (lep_<id>_<secret>) or the platform admin key." },
                    [FunctionKeyScheme] = new() { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Query, Name = "code",
                        Description = "The function key (Event Grid and the GPU trainer's callbacks)." },
                },
            },
        };
        document.Components.Schemas = schemas.Components;
        schemas.Add(typeof(ProblemDetails));
        foreach (var group in HttpFunctions().GroupBy(f => f.Trigger.Route!, StringComparer.Ordinal))
        {
            var item = new OpenApiPathItem();
            foreach ((MethodInfo method, string name, HttpTriggerAttribute trigger) in group)
            {
                foreach (string verb in trigger.Methods ?? ["get"])
                {
                    item.Operations[Enum.Parse<OperationType>(verb, ignoreCase: true)] = Operation(method, name, trigger, schemas);
                }
            }

            document.Paths[PathOf(group.Key)] = item;
        }

        return document;
    }

    /// <summary>The description's path of a function route: a catch-all route value ({*path}) is an ordinary path parameter to OpenAPI.</summary>
    public static string PathOf(string route) => "/" + route.Replace("{*", "{", StringComparison.Ordinal);

    public const string ApiKeyScheme = "apiKey";
    public const string FunctionKeyScheme = "functionKey";

    private static OpenApiOperation Operation(MethodInfo method, string name, HttpTriggerAttribute trigger, SchemaRegistry schemas)
    {
        var operation = new OpenApiOperation
        {
            OperationId = name,
            Summary = Words().Replace(name, " $1").Trim(),
            Tags = [new OpenApiTag { Name = method.DeclaringType!.Name.Replace("Functions", "", StringComparison.Ordinal) }],
        };
        foreach (Match parameter in RouteParameter().Matches(trigger.Route!))
        {
            string parameterName = parameter.Groups[1].Value;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameterName,
                In = ParameterLocation.Path,
                Required = true,
                Schema = new OpenApiSchema { Type = "string" },
                Example = Lepton.Api.ApiExamples.PathValues.TryGetValue(parameterName, out string? example) ? new OpenApiString(example) : null,
            });
        }

        foreach (OpenApiQueryAttribute query in method.GetCustomAttributes<OpenApiQueryAttribute>())
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = query.Name,
                In = ParameterLocation.Query,
                Required = query.Required,
                Description = query.Description,
                Schema = new OpenApiSchema { Type = "string" },
                Example = query.Example is null ? null : new OpenApiString(query.Example),
            });
        }

        if (method.GetCustomAttribute<RequiresActionAttribute>() is { } requirement)
        {
            IReadOnlyList<string> roles = AccessPolicy.RolesFor(requirement.Action);
            operation.Description = $"Action {requirement.Action}; " + (requirement.Action == LeptonAction.ManageTenants
                ? "the platform admin key."
                : $"a key with one of the roles: {string.Join(", ", roles)}.");
            operation.Extensions["x-lepton-action"] = new OpenApiString(requirement.Action.ToString());
            operation.Extensions["x-lepton-roles"] = ToArray(requirement.Action == LeptonAction.ManageTenants ? ["platform-admin"] : roles);
            operation.Security.Add(Requirement(ApiKeyScheme));
        }
        else if (trigger.AuthLevel != AuthorizationLevel.Anonymous)
        {
            operation.Security.Add(Requirement(FunctionKeyScheme));
        }

        if (RequestBody(method) is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content =
                {
                    [body.ContentType] = new OpenApiMediaType
                    {
                        Schema = body.JsonType is null ? new OpenApiSchema { Type = "string", Format = "binary" } : schemas.Add(body.JsonType),
                        Example = body.JsonType is not null && Lepton.Api.ApiExamples.Bodies.TryGetValue(body.JsonType, out object? example)
                            ? ToAny(JsonSerializer.SerializeToElement(example, example.GetType(), Lepton.Storage.LeptonJson.Options))
                            : null,
                    },
                },
            };
        }

        Type? responseType = method.GetCustomAttribute<OpenApiResponseAttribute>()?.Type;
        foreach (int status in SuccessStatuses(method))
        {
            operation.Responses[status.ToString()] = new OpenApiResponse
            {
                Description = status switch { 201 => "Created.", 202 => "Accepted: a run started; follow it at /api/runs/{runId}.", 204 => "Done.", _ => "Success." },
                Content = status == 204 ? [] : new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = responseType is null ? new OpenApiSchema { Type = "object" } : schemas.Add(responseType) },
                },
            };
        }
        operation.Responses["default"] = new OpenApiResponse
        {
            Description = "An error, as RFC 7807 problem details: 400 invalid request, 401 no or bad key, 403 wrong role, 404 not found (also for another tenant's resources), 409 conflict, 413 too large, 429 rate limited, 503 unavailable.",
            Content = { [ProblemMapping.ContentType] = new OpenApiMediaType { Schema = schemas.Add(typeof(ProblemDetails)) } },
        };
        return operation;
    }

    /// <summary>A JSON value as the OpenAPI model's "any" (examples).</summary>
    private static IOpenApiAny ToAny(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new OpenApiObject();
                foreach (JsonProperty property in value.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null))
                {
                    obj[property.Name] = ToAny(property.Value);
                }

                return obj;
            case JsonValueKind.Array:
                var array = new OpenApiArray();
                array.AddRange(value.EnumerateArray().Select(ToAny));
                return array;
            case JsonValueKind.String:
                return new OpenApiString(value.GetString());
            case JsonValueKind.Number:
                return value.TryGetInt64(out long whole) ? new OpenApiLong(whole) : new OpenApiDouble(value.GetDouble());
            case JsonValueKind.True or JsonValueKind.False:
                return new OpenApiBoolean(value.GetBoolean());
            default:
                return new OpenApiNull();
        }
    }

    private static OpenApiSecurityRequirement Requirement(string scheme) => new()
    {
        [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = scheme } }] = [],
    };

    private static OpenApiArray ToArray(IEnumerable<string> values)
    {
        var array = new OpenApiArray();
        array.AddRange(values.Select(v => new OpenApiString(v)));
        return array;
    }

    /// <summary>The body a function reads: declared, or the T of its ReadJsonBodyAsync&lt;T&gt; call.</summary>
    public static OpenApiBodyAttribute? RequestBody(MethodInfo method) =>
        method.GetCustomAttribute<OpenApiBodyAttribute>()
        ?? Calls(method).Where(c => c.Name == nameof(RequestExtensions.ReadJsonBodyAsync) && c.IsGenericMethod)
            .Select(c => new OpenApiBodyAttribute(c.GetGenericArguments()[0])).FirstOrDefault();

    /// <summary>
    /// The success statuses of the results the function creates: OkObjectResult 200, CreatedResult 201, AcceptedResult 202,
    /// NoContentResult 204, and any 2xx constant it sets as an ObjectResult's StatusCode.
    /// </summary>
    public static IReadOnlyList<int> SuccessStatuses(MethodInfo method)
    {
        var statuses = new SortedSet<int>();
        IReadOnlyList<MethodBase> calls = Calls(method);
        // Results the function creates, or gets from a helper whose declared return type says which (RunAccepted.For: 202).
        IEnumerable<Type> results = calls.Where(c => c.IsConstructor).Select(c => c.DeclaringType!)
            .Concat(calls.OfType<MethodInfo>().Select(c => c.ReturnType).Where(t => typeof(IActionResult).IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract));
        foreach (Type created in results)
        {
            int? status = typeof(CreatedResult).IsAssignableFrom(created) ? 201
                : typeof(AcceptedResult).IsAssignableFrom(created) ? 202
                : typeof(NoContentResult).IsAssignableFrom(created) ? 204
                : typeof(OkObjectResult).IsAssignableFrom(created) || typeof(OkResult).IsAssignableFrom(created) || typeof(FileResult).IsAssignableFrom(created) ? 200
                : null;
            if (status is { } s)
            {
                statuses.Add(s);
            }
        }

        if (calls.Any(c => c.Name == "set_StatusCode"))
        {
            statuses.UnionWith(Constants(method).Where(c => c is >= 200 and < 300));
        }

        return statuses.Count > 0 ? statuses.ToList() : [200];
    }

    /// <summary>The 32-bit constants (ldc.i4) of a function's body.</summary>
    private static IEnumerable<int> Constants(MethodInfo method)
    {
        byte[] il = Body(method).GetMethodBody()?.GetILAsByteArray() ?? [];
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] == 0x20)
            {
                yield return BitConverter.ToInt32(il, i + 1);
            }
        }
    }

    private static MethodInfo Body(MethodInfo method) =>
        method.GetCustomAttribute<AsyncStateMachineAttribute>()?.StateMachineType.GetMethod("MoveNext", BindingFlags.Instance | BindingFlags.NonPublic) ?? method;

    private static readonly ConcurrentDictionary<MethodInfo, IReadOnlyList<MethodBase>> CallCache = new();

    /// <summary>The methods and constructors a function's body calls (its async state machine's, for an async function).</summary>
    private static IReadOnlyList<MethodBase> Calls(MethodInfo method) => CallCache.GetOrAdd(method, static m =>
    {
        MethodInfo body = Body(m);
        byte[] il = body.GetMethodBody()?.GetILAsByteArray() ?? [];
        var calls = new List<MethodBase>();
        for (int i = 0; i + 4 < il.Length; i++)
        {
            // call, callvirt, newobj: a 4-byte method token follows. A byte that only looks like one resolves to nothing useful.
            if (il[i] is 0x28 or 0x6F or 0x73)
            {
                try
                {
                    if (body.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1), body.DeclaringType?.GetGenericArguments(), null) is { } called)
                    {
                        calls.Add(called);
                    }
                }
                catch (ArgumentException)
                {
                }
            }
        }

        return calls;
    });

    /// <summary>Component schemas for the record types of requests, by type name; properties camelCase as the API writes them.</summary>
    private sealed class SchemaRegistry
    {
        private readonly NullabilityInfoContext _nullability = new();

        public Dictionary<string, OpenApiSchema> Components { get; } = new(StringComparer.Ordinal);

        public OpenApiSchema Add(Type type)
        {
            Type actual = Nullable.GetUnderlyingType(type) ?? type;
            if (Primitive(actual) is { } primitive)
            {
                return primitive;
            }

            if (actual == typeof(JsonElement) || actual == typeof(object))
            {
                return new OpenApiSchema();
            }

            if (Dictionary(actual) is { } valueType)
            {
                return new OpenApiSchema { Type = "object", AdditionalProperties = Add(valueType) };
            }

            if (actual != typeof(string) && Element(actual) is { } elementType)
            {
                return new OpenApiSchema { Type = "array", Items = Add(elementType) };
            }

            string id = actual.Name;
            if (!Components.ContainsKey(id))
            {
                var schema = new OpenApiSchema { Type = "object", Properties = new Dictionary<string, OpenApiSchema>() };
                Components[id] = schema;
                foreach (PropertyInfo property in actual.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead && p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null))
                {
                    if (property.DeclaringType == typeof(ProblemDetails) && property.Name == nameof(ProblemDetails.Extensions))
                    {
                        continue;
                    }

                    string name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    schema.Properties[name] = Add(property.PropertyType);
                    if (_nullability.Create(property).ReadState == NullabilityState.NotNull && property.PropertyType.IsValueType == false
                        && Nullable.GetUnderlyingType(property.PropertyType) is null)
                    {
                        schema.Required.Add(name);
                    }
                }
            }

            return new OpenApiSchema { Reference = new OpenApiReference { Type = ReferenceType.Schema, Id = id } };
        }

        private static OpenApiSchema? Primitive(Type type) => type switch
        {
            _ when type == typeof(string) => new OpenApiSchema { Type = "string" },
            _ when type == typeof(bool) => new OpenApiSchema { Type = "boolean" },
            _ when type == typeof(int) || type == typeof(long) || type == typeof(ulong) || type == typeof(short) => new OpenApiSchema { Type = "integer", Format = type == typeof(int) ? "int32" : "int64" },
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => new OpenApiSchema { Type = "number", Format = type == typeof(float) ? "float" : "double" },
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => new OpenApiSchema { Type = "string", Format = "date-time" },
            _ when type == typeof(TimeSpan) => new OpenApiSchema { Type = "string", Format = "duration" },
            _ when type == typeof(Guid) => new OpenApiSchema { Type = "string", Format = "uuid" },
            _ when type == typeof(Uri) => new OpenApiSchema { Type = "string", Format = "uri" },
            // Enums marked with a string converter are written by name; the rest as numbers (the web defaults).
            _ when type.IsEnum && type.GetCustomAttribute<System.Text.Json.Serialization.JsonConverterAttribute>() is not null => EnumNames(type),
            _ when type.IsEnum => new OpenApiSchema { Type = "integer" },
            _ => null,
        };

        private static OpenApiSchema EnumNames(Type type)
        {
            var schema = new OpenApiSchema { Type = "string" };
            foreach (string name in Enum.GetNames(type))
            {
                schema.Enum.Add(new OpenApiString(name));
            }

            return schema;
        }

        private static Type? Dictionary(Type type) =>
            (type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>) || d == typeof(Dictionary<,>))
                ? type : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            ?.GetGenericArguments()[1];

        private static Type? Element(Type type) =>
            type.IsArray ? type.GetElementType()
            : (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? type : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)))
                ?.GetGenericArguments()[0];
    }

    [GeneratedRegex("(?<!^)([A-Z])")]
    private static partial Regex Words();

    [GeneratedRegex(@"\{\*?(\w+)(?::[^}]*)?\}")]
    private static partial Regex RouteParameter();
}
