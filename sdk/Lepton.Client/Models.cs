using System.Text.Json;

namespace Lepton.Client;

/// <summary>Marks the API operation (the OpenAPI operationId) a client method calls; a test checks every route has one.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ApiOperationAttribute(string operationId) : Attribute
{
    public string OperationId { get; } = operationId;
}

/// <summary>Where a client talks to and with which key.</summary>
public sealed class LeptonClientOptions
{
    /// <summary>The API root, e.g. https://lepton.example/api/ or http://127.0.0.1:7071/api/.</summary>
    public Uri Endpoint { get; set; } = new("http://127.0.0.1:7071/api/");

    /// <summary>A tenant's API key, or the platform admin key for tenant management.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>How often <see cref="LeptonClient.WaitForRunAsync"/> asks for a run's state.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>How far a run is.</summary>
public sealed record RunProgress(string? Stage, int Done, int Total);

/// <summary>A durable run as GET /api/runs/{runId} shows it.</summary>
public sealed record Run(string RunId, string Kind, string Status, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt, RunProgress? Progress,
    JsonElement? Result, string? Error, JsonElement? Details)
{
    public bool IsFinished => Status is "Completed" or "Failed" or "Terminated";
}

/// <summary>The 202 of a request that started a run.</summary>
public sealed record RunStarted(string RunId, string? StatusUrl);

/// <summary>A write-only upload URL for one blob, valid for minutes.</summary>
public sealed record UploadTarget(Uri UploadUrl, string Method, DateTimeOffset? ExpiresAt);
