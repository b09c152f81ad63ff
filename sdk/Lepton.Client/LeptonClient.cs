using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lepton.Api;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Lepton.Client;

/// <summary>
/// Typed access to every route of the Lepton API (one method per OpenAPI operation, marked with its id). Errors arrive
/// as <see cref="LeptonApiException"/> subclasses carrying the problem's detail; 429 and 503 are retried with backoff,
/// honouring Retry-After (Microsoft.Extensions.Http.Resilience).
/// </summary>
public sealed partial class LeptonClient : IDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly HttpClient _storage;
    private readonly LeptonClientOptions _options;
    private readonly bool _ownsHttp;

    /// <summary>For dependency injection: the HttpClient comes from <see cref="ServiceCollectionExtensions.AddLeptonClient"/> with the resilience pipeline.</summary>
    public LeptonClient(HttpClient http, LeptonClientOptions options)
    {
        (_http, _options) = (http, options);
        _http.BaseAddress ??= options.Endpoint;
        _storage = new HttpClient();
    }

    private LeptonClient(HttpClient http, LeptonClientOptions options, bool ownsHttp) : this(http, options) => _ownsHttp = ownsHttp;

    /// <summary>A client with its own resilient HttpClient.</summary>
    public static LeptonClient Create(Uri endpoint, string apiKey, TimeSpan? pollInterval = null)
    {
        var options = new LeptonClientOptions { Endpoint = endpoint, ApiKey = apiKey, PollInterval = pollInterval ?? TimeSpan.FromSeconds(1) };
        var handler = new ResilienceHandler(Resilience.Pipeline()) { InnerHandler = new SocketsHttpHandler() };
        return new LeptonClient(new HttpClient(handler) { BaseAddress = endpoint }, options, ownsHttp: true);
    }

    public LeptonClientOptions Options => _options;

    public void Dispose()
    {
        _storage.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Sends a request with the API key; maps problem+json to typed exceptions.</summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'))
        {
            Content = content ?? (body is null ? null : JsonContent.Create(body, body.GetType(), options: Json)),
        };
        if (_options.ApiKey.Length > 0)
        {
            request.Headers.Add("x-api-key", _options.ApiKey);
        }

        HttpResponseMessage response = await _http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(ct);
            JsonElement? problem = null;
            string? title = null, detail = null;
            try
            {
                if (text.Length > 0)
                {
                    problem = JsonDocument.Parse(text).RootElement.Clone();
                    title = problem.Value.TryGetProperty("title", out JsonElement t) ? t.GetString() : null;
                    detail = problem.Value.TryGetProperty("detail", out JsonElement d) ? d.GetString() : null;
                }
            }
            catch (JsonException)
            {
                detail = text;
            }

            throw LeptonApiException.From(response.StatusCode, title, detail, problem, response.Headers.RetryAfter?.Delta);
        }
    }

    internal async Task<T> JsonAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendAsync(method, path, body, ct);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private Task<JsonElement> GetJsonAsync(string path, CancellationToken ct) => JsonAsync<JsonElement>(HttpMethod.Get, path, null, ct);

    private async Task SendOnlyAsync(HttpMethod method, string path, object? body, CancellationToken ct) => (await SendAsync(method, path, body, ct)).Dispose();

    private static string E(string value) => Uri.EscapeDataString(value);

    /// <summary>Retries only where the platform did nothing: 429 (rate limit) and 503 (storage away), and lost GETs.</summary>
    internal static class Resilience
    {
        public static ResiliencePipeline<HttpResponseMessage> Pipeline() => Configure(new ResiliencePipelineBuilder<HttpResponseMessage>()).Build();

        public static ResiliencePipelineBuilder<HttpResponseMessage> Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder) => builder
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 4,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                    || (args.Outcome.Exception is HttpRequestException && args.Context.GetRequestMessage()?.Method == HttpMethod.Get)),
            });
    }

    /// <summary>Reports the bytes sent while an upload streams.</summary>
    private sealed class ProgressContent(Stream source, long length, IProgress<long>? progress) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            byte[] buffer = new byte[81920];
            long sent = 0;
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read));
                sent += read;
                progress?.Report(sent);
            }
        }

        protected override bool TryComputeLength(out long size)
        {
            size = length;
            return true;
        }
    }

    /// <summary>PUTs a file to an upload URL (no API key: the URL's SAS is the permission), reporting bytes sent.</summary>
    public async Task UploadToAsync(UploadTarget target, Stream content, long length, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, target.UploadUrl) { Content = new ProgressContent(content, length, progress) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage response = await _storage.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new LeptonApiException(response.StatusCode, "The upload was refused.", await response.Content.ReadAsStringAsync(ct), null);
        }
    }
}
