namespace Lepton.DevHost;

/// <summary>Command-line switches of the dev host; everything else is ordinary configuration (env Lepton__..., local.settings.json).</summary>
public sealed record DevHostOptions(
    int Port,
    bool Persist,
    bool FreePorts,
    string? StateDirectory,
    int TenantAccounts,
    bool Demo,
    bool ExitAfterDemo,
    bool StorageOnly,
    bool BenchmarkEndpoint,
    string[] Remaining)
{
    public const string Usage = """
        Lepton dev host: runs the Lepton function app locally on Azurite with the Durable Task engine.

        Usage: dotnet run --project functions/Lepton.DevHost -- [options]
          --port N              HTTP port (default 7071, like func start)
          --persist             keep storage in <state-dir>/azurite across restarts (default: in memory)
          --state-dir DIR       folder for local state (default: .lepton in the repository)
          --free-ports          run Azurite on free ports instead of 10000-10002
          --tenant-accounts N   tenant storage accounts to offer (default 8)
          --demo                after start-up, run the two-hospital demo against this host
          --exit-after-demo     stop when the demo ends (for scripts)
          --storage-only        only Azurite and blob events, posted to a function host on --port (for func start)
          --benchmark-endpoint  also serve POST /api/bench/constant (a constant body: the serving benchmark's ceiling)
          --help                show this text
        Configuration: Lepton__AdminKey (platform admin key; generated if unset), Lepton__DevHost__FunctionKey.
        """;

    public static DevHostOptions Parse(string[] args)
    {
        int port = 7071, tenants = 8;
        bool persist = false, freePorts = false, demo = false, exitAfterDemo = false, storageOnly = false, benchmark = false;
        string? state = null;
        var remaining = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port":
                    port = ParseInt(args, ref i, "--port");
                    break;
                case "--persist":
                    persist = true;
                    break;
                case "--free-ports":
                    freePorts = true;
                    break;
                case "--state-dir":
                    state = NextValue(args, ref i, "--state-dir");
                    break;
                case "--tenant-accounts":
                    tenants = ParseInt(args, ref i, "--tenant-accounts");
                    break;
                case "--benchmark-endpoint":
                    benchmark = true;
                    break;
                case "--storage-only":
                    storageOnly = true;
                    break;
                case "--demo":
                    demo = true;
                    break;
                case "--exit-after-demo":
                    (demo, exitAfterDemo) = (true, true);
                    break;
                default:
                    remaining.Add(args[i]);
                    break;
            }
        }

        return new DevHostOptions(port, persist, freePorts, state, tenants, demo, exitAfterDemo, storageOnly, benchmark, remaining.ToArray());
    }

    private static int ParseInt(string[] args, ref int i, string name) =>
        int.TryParse(NextValue(args, ref i, name), out int value) && value >= 0
            ? value
            : throw new ArgumentException($"{name} needs a whole number.");

    private static string NextValue(string[] args, ref int i, string name) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{name} needs a value.");
}
