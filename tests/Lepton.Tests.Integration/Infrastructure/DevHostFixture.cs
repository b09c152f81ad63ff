namespace Lepton.Tests.Integration.Infrastructure;

/// <summary>One dev host (in-memory Azurite) shared by the tests of the "dev host" collection; removed with its state afterwards.</summary>
public sealed class DevHostFixture : IAsyncLifetime
{
    /// <summary>Small enough that the over-size test needs only a couple of megabytes.</summary>
    public const long MaxFileBytes = 2_000_000;

    private static readonly string State = Path.Combine(Path.GetTempPath(), "lepton-it-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Every tenant storage client the host handed out, with the tenant the acting activity declared (see StorageAccess).</summary>
    public static string StorageAccessLog { get; } = Path.Combine(State + "-access.log");

    /// <summary>The host's finished spans, one JSON line each (Lepton:Telemetry:TraceFile).</summary>
    public static string TraceFile { get; } = Path.Combine(State + "-traces.jsonl");

    public DevHostProcess Host { get; } = new(
        State,
        persist: false,
        new Dictionary<string, string>
        {
            ["Lepton__Storage__AccessLogPath"] = StorageAccessLog,
            ["Lepton__Ingestion__MaxFileBytes"] = MaxFileBytes.ToString(),
            // Low enough that the rate-limit test trips it quickly, high enough for every other test's traffic.
            ["Lepton__RateLimit__PermitsPerSecond"] = RatePerSecond.ToString(),
            ["Lepton__RateLimit__Burst"] = RateBurst.ToString(),
            // The authorization matrix sends hundreds of bad keys from one address on purpose.
            ["Lepton__RateLimit__FailedBurst"] = "100000",
            ["Lepton__Audit__UsageFlushInterval"] = "00:00:02",
            ["Lepton__Telemetry__TraceFile"] = TraceFile,
        });

    public const int RatePerSecond = 20;
    public const int RateBurst = 60;

    public LeptonClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = new LeptonClient(Host.BaseUrl);
        return Host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        Directory.Delete(Host.StateDirectory, recursive: true);
        File.Delete(StorageAccessLog);
    }
}

[CollectionDefinition(Name)]
public sealed class DevHostCollection : ICollectionFixture<DevHostFixture>
{
    public const string Name = "dev host";
}

/// <summary>Test data: the repository's samples and generated files.</summary>
public static class TestData
{
    public static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(DevHostProcess.RepoRoot, "samples", name));

    public static byte[] BreastCancerSpec => Sample("breast-cancer.dataset.json");

    /// <summary>A CSV's lines, whatever its line endings (the samples have CRLF).</summary>
    public static string[] Lines(byte[] csv) => System.Text.Encoding.UTF8.GetString(csv).ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    /// <summary>A numeric CSV with a unique id per row, so no row is a duplicate.</summary>
    public static byte[] GeneratedNumeric(int rows, int seed = 42)
    {
        var random = new Random(seed);
        var text = new System.Text.StringBuilder("id,a,b,c,d,e,f,g,label\n");
        for (int i = 0; i < rows; i++)
        {
            text.Append(i).Append(',');
            for (int c = 0; c < 7; c++)
            {
                text.Append((random.NextDouble() * 100).ToString("F3", System.Globalization.CultureInfo.InvariantCulture)).Append(',');
            }

            text.Append(random.Next(2) == 0 ? "true" : "false").Append('\n');
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }
}
