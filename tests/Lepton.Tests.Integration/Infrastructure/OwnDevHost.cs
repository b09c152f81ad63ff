namespace Lepton.Tests.Integration.Infrastructure;

/// <summary>
/// A test class with a dev host of its own (settings the shared fixture must not have), removed with its state afterwards.
/// Such classes run one after another (their collection), beside the shared fixture's, so a 2-core machine starts one
/// extra host at a time.
/// </summary>
[Collection(OwnDevHostCollection.Name)]
public abstract class OwnDevHost(IDictionary<string, string> environment) : IAsyncLifetime
{
    protected string State { get; } = Path.Combine(Path.GetTempPath(), "lepton-own-" + Guid.NewGuid().ToString("N")[..8]);

    protected DevHostProcess Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = new DevHostProcess(State, persist: false, environment);
        await Host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        if (Directory.Exists(State))
        {
            Directory.Delete(State, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class OwnDevHostCollection
{
    public const string Name = "own dev hosts";
}
