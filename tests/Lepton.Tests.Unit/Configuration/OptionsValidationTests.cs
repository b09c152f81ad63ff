using Lepton.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lepton.Tests.Unit.Configuration;

public class OptionsValidationTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddLeptonCore(configuration).BuildServiceProvider();
    }

    [Fact]
    public void Validate_NoAdminKey_StopsStartUpNamingTheSetting()
    {
        using ServiceProvider services = Services([]);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Lepton:AdminKey", error.Message);
    }

    [Fact]
    public void Validate_OutOfRangeLimit_StopsStartUp()
    {
        using ServiceProvider services = Services(new() { ["Lepton:AdminKey"] = "admin-key-0123456789", ["Lepton:Prediction:MaxRowsPerRequest"] = "0" });

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public void Validate_CompleteSettings_Starts()
    {
        using ServiceProvider services = Services(new() { ["Lepton:AdminKey"] = "admin-key-0123456789" });

        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal("admin-key-0123456789", services.GetRequiredService<IOptions<LeptonOptions>>().Value.AdminKey);
    }
}
