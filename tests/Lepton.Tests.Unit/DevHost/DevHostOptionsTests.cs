using Lepton.DevHost;

namespace Lepton.Tests.Unit.DevHost;

public class DevHostOptionsTests
{
    [Fact]
    public void Parse_NoArguments_UsesTheDefaultsOfFuncStart()
    {
        DevHostOptions options = DevHostOptions.Parse();

        Assert.Equal((7071, 8, false, false, null), (options.Port, options.TenantAccounts, options.Persist, options.Demo, options.StateDirectory));
        Assert.Empty(options.Remaining);
    }

    [Fact]
    public void Parse_SwitchesAndConfigurationTokens_SeparatesThem()
    {
        DevHostOptions options = DevHostOptions.Parse("--port", "7199", "--free-ports", "--tenant-accounts", "30", "--state-dir", "/tmp/x", "--Lepton:Audit:UsageFlushInterval=00:00:02");

        Assert.Equal((7199, true, 30, "/tmp/x"), (options.Port, options.FreePorts, options.TenantAccounts, options.StateDirectory));
        Assert.Equal(["--Lepton:Audit:UsageFlushInterval=00:00:02"], options.Remaining);
    }

    [Fact]
    public void Parse_ExitAfterDemo_AlsoRunsTheDemo()
    {
        DevHostOptions options = DevHostOptions.Parse("--exit-after-demo");

        Assert.True(options.Demo && options.ExitAfterDemo);
    }

    [Theory]
    [InlineData("--port", "-1")]
    [InlineData("--port", "many")]
    [InlineData("--tenant-accounts", "-3")]
    public void Parse_BadNumber_ThrowsNamingTheSwitch(string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => DevHostOptions.Parse(name, value));

        Assert.Contains(name, error.Message);
    }
}
