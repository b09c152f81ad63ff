using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Client;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers <see cref="LeptonClient"/> with an HttpClient from the factory and the client's retry pipeline (429/503, Retry-After).</summary>
    public static IHttpClientBuilder AddLeptonClient(this IServiceCollection services, Action<LeptonClientOptions> configure)
    {
        var options = new LeptonClientOptions();
        configure(options);
        services.AddSingleton(options);
        IHttpClientBuilder builder = services.AddHttpClient<LeptonClient>(http => http.BaseAddress = options.Endpoint);
        builder.AddResilienceHandler("lepton", pipeline => LeptonClient.Resilience.Configure(pipeline));
        return builder;
    }
}
