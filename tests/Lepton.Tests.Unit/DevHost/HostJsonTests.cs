using Lepton.DevHost;

namespace Lepton.Tests.Unit.DevHost;

public class HostJsonTests
{
    [Fact]
    public void Load_RepositoryHostJson_ReadsPrefixHubConcurrencyExtendedSessionsAndBuffer()
    {
        HostJson host = HostJson.Load(RepoRoot.Find());

        Assert.Equal(("api", "LeptonHub", 8, 8, true, 256),
            (host.RoutePrefix, host.HubName, host.MaxConcurrentActivities, host.MaxConcurrentOrchestrations, host.ExtendedSessions,
                host.ControlQueueBufferThreshold));
    }

    [Fact]
    public void Parse_NothingSet_UsesTheFunctionsHostDefaults()
    {
        HostJson host = HostJson.Parse("""{ "version": "2.0" /* nothing else */ }""");

        Assert.Equal("api", host.RoutePrefix);
        Assert.Equal(10 * Environment.ProcessorCount, host.MaxConcurrentActivities);
        Assert.False(host.ExtendedSessions);
        Assert.Equal(256, host.ControlQueueBufferThreshold);
    }

    [Fact]
    public void Parse_StorageProviderBuffer_IsRead()
    {
        HostJson host = HostJson.Parse("""{ "extensions": { "durableTask": { "storageProvider": { "controlQueueBufferThreshold": 32 } } } }""");

        Assert.Equal(32, host.ControlQueueBufferThreshold);
    }

    [Fact]
    public void Parse_EmptyRoutePrefix_IsKept()
    {
        HostJson host = HostJson.Parse("""{ "extensions": { "http": { "routePrefix": "" }, "durableTask": { "hubName": "Other" } } }""");

        Assert.Equal(("", "Other"), (host.RoutePrefix, host.HubName));
    }
}
