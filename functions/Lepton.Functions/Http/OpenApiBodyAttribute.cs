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

/// <summary>The body of the predict routes: rows of input column values.</summary>
public sealed record PredictBody(IReadOnlyList<IReadOnlyDictionary<string, System.Text.Json.JsonElement>> Rows);
