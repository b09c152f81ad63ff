namespace Lepton.Functions.Http;

/// <summary>
/// Declares a request body the OpenAPI description cannot read from the function itself: functions that call
/// <see cref="RequestExtensions.ReadJsonBodyAsync{T}"/> need nothing, their body type is taken from that call.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OpenApiBodyAttribute : Attribute
{
    public OpenApiBodyAttribute(Type jsonType) => (JsonType, ContentType) = (jsonType, "application/json");

    public OpenApiBodyAttribute(string contentType) => ContentType = contentType;

    public Type? JsonType { get; }

    public string ContentType { get; }
}

/// <summary>
/// The record a function answers with on success. The API's contract test checks every such response against the schema
/// generated from it, so a declaration that drifts from what the function returns fails the build's tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OpenApiResponseAttribute(Type type) : Attribute
{
    public Type Type { get; } = type;
}

/// <summary>A query parameter a function reads (the description cannot see query reads; each is declared here).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OpenApiQueryAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;

    public string Description { get; } = description;

    public bool Required { get; init; }

    /// <summary>The value the description shows (and the contract test sends).</summary>
    public string? Example { get; init; }
}

/// <summary>The body of the predict routes: rows of input column values.</summary>
public sealed record PredictBody(IReadOnlyList<IReadOnlyDictionary<string, System.Text.Json.JsonElement>> Rows);
