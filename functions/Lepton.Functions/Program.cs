using Lepton;
using Lepton.Functions;
using Lepton.Functions.Http;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ProblemDetailsMiddleware>();
builder.UseMiddleware<AuthorizationMiddleware>();
builder.Services.AddLeptonFunctionApp(builder.Configuration);
// Under the Functions host, spans of each invocation join the host's own trace (when telemetry is exported at all).
if (builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"] is { Length: > 0 } || builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 })
{
    builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
}
builder.Services.AddHostedService<BootstrapHostedService>();
builder.Build().Run();
