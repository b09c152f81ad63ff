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
// Under the Functions host, spans of each invocation join the host's own trace.
builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
builder.Services.AddHostedService<BootstrapHostedService>();
builder.Build().Run();
