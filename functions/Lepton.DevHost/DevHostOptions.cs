using System.CommandLine;
using System.CommandLine.Parsing;

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
    private static readonly Option<int> PortOption = NonNegative(new Option<int>("--port") { Description = "HTTP port (like func start)", DefaultValueFactory = _ => 7071 });
    private static readonly Option<bool> PersistOption = new("--persist") { Description = "keep storage in <state-dir>/azurite across restarts (default: in memory)" };
    private static readonly Option<string?> StateOption = new("--state-dir") { Description = "folder for local state (default: .lepton in the repository)" };
    private static readonly Option<bool> FreePortsOption = new("--free-ports") { Description = "run Azurite on free ports instead of 10000-10002" };
    private static readonly Option<int> TenantsOption = NonNegative(new Option<int>("--tenant-accounts") { Description = "tenant storage accounts to offer", DefaultValueFactory = _ => 8 });
    private static readonly Option<bool> DemoOption = new("--demo") { Description = "after start-up, run the two-hospital demo against this host" };
    private static readonly Option<bool> ExitAfterDemoOption = new("--exit-after-demo") { Description = "run the demo, then stop (for scripts)" };
    private static readonly Option<bool> StorageOnlyOption = new("--storage-only") { Description = "only Azurite and blob events, posted to a function host on --port (for func start)" };
    private static readonly Option<bool> BenchmarkOption = new("--benchmark-endpoint") { Description = "also serve POST /api/bench/constant (a constant body: the serving benchmark's ceiling) and /api/bench/latency (the host's own request durations for one route)" };

    /// <summary>The dev host's command line. Tokens it does not know (e.g. --Lepton:AdminKey=...) go on to the host's configuration.</summary>
    public static RootCommand Command { get; } = new(
        "Lepton dev host: runs the Lepton function app locally on Azurite with the Durable Task engine.\n"
        + "Configuration: Lepton__AdminKey (platform admin key; generated if unset), Lepton__DevHost__FunctionKey.")
    {
        Options = { PortOption, PersistOption, StateOption, FreePortsOption, TenantsOption, DemoOption, ExitAfterDemoOption, StorageOnlyOption, BenchmarkOption },
        TreatUnmatchedTokensAsErrors = false,
    };

    public static DevHostOptions From(ParseResult parsed)
    {
        bool exitAfterDemo = parsed.GetValue(ExitAfterDemoOption);
        return new DevHostOptions(parsed.GetValue(PortOption), parsed.GetValue(PersistOption), parsed.GetValue(FreePortsOption), parsed.GetValue(StateOption),
            parsed.GetValue(TenantsOption), parsed.GetValue(DemoOption) || exitAfterDemo, exitAfterDemo, parsed.GetValue(StorageOnlyOption),
            parsed.GetValue(BenchmarkOption), parsed.UnmatchedTokens.ToArray());
    }

    public static DevHostOptions Parse(params string[] args)
    {
        ParseResult parsed = Command.Parse(args);
        return parsed.Errors.Count == 0 ? From(parsed) : throw new ArgumentException(string.Join(" ", parsed.Errors.Select(e => e.Message)));
    }

    private static Option<int> NonNegative(Option<int> option)
    {
        option.Validators.Add(result =>
        {
            // A token that is not a number at all is already an error of the parser; only judge the numbers.
            if (result.Tokens is [{ } token] && int.TryParse(token.Value, out int value) && value < 0)
            {
                result.AddError($"{option.Name} needs a whole number of 0 or more.");
            }
        });
        return option;
    }
}
