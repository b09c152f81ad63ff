using Lepton;
using Lepton.Functions;
using Lepton.Functions.Http;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<ProblemDetailsMiddleware>();
builder.UseMiddleware<AuthorizationMiddleware>();
builder.Services.AddLeptonFunctionApp(builder.Configuration);
builder.Services.AddHostedService<BootstrapHostedService>();
builder.Build().Run();
