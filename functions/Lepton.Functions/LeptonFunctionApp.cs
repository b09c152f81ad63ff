using Lepton.Orchestrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Functions;

/// <summary>
/// The function app's service registrations, shared by its own Program and by the dev host so both run the same
/// functions over the same services. Also marks the assembly the dev host scans for [Function] methods.
/// </summary>
public static class LeptonFunctionApp
{
    public static IServiceCollection AddLeptonFunctionApp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddLeptonCore(configuration);
        services.AddLeptonOrchestrations();
        services.AddHostedService<UsageFlusher>();
        services.AddHostedService<TreeHeadPublisher>();
        services.AddHostedService<AuditOutboxSweeper>();
        services.AddLeptonTelemetry(configuration);
        return services;
    }
}
