using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Azure.Storage;
using Azure.Storage.Blobs;
using Lepton;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Integration.Infrastructure;

/// <summary>
/// The dev host as a user runs it: a separate process (dotnet Lepton.DevHost.dll) that starts its own Azurite on free ports,
/// the durable engine and the functions. Stopped (or killed) and cleaned up by the test.
/// </summary>
public sealed class DevHostProcess : IAsyncDisposable
{
    public const string AdminKey = "integration-admin-key-0123456789";
    public const string FunctionKey = "integration-function-key-0123456789";

    private readonly StringBuilder _output = new();
    private readonly Dictionary<string, string> _environment;
    private readonly string[] _arguments;
    private Process? _process;

    public DevHostProcess(string stateDirectory, bool persist, IDictionary<string, string>? environment = null)
    {
        StateDirectory = stateDirectory;
        Port = FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{Port}");
        _arguments = ["--port", Port.ToString(), "--free-ports", "--tenant-accounts", "160", "--state-dir", stateDirectory, .. persist ? new[] { "--persist" } : []];
        _environment = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["Lepton__AdminKey"] = AdminKey,
            ["Lepton__DevHost__FunctionKey"] = FunctionKey,
        };
    }

    public string StateDirectory { get; }

    public int Port { get; }

    public Uri BaseUrl { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string RepoRoot => Lepton.DevHost.RepoRoot.Find();

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string dll = Path.Combine(RepoRoot, "functions", "Lepton.DevHost", "bin", configuration, "net10.0", "Lepton.DevHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in _environment)
        {
            start.Environment[key] = value;
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, ready);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, ready);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Task exited = _process.WaitForExitAsync();
        Task first = await Task.WhenAny(ready.Task, exited, Task.Delay(timeout ?? TimeSpan.FromSeconds(120)));
        if (first != ready.Task)
        {
            throw new InvalidOperationException($"The dev host did not become ready. Output:\n{Output}");
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a machine dies.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM: the dev host's clean shutdown, which must stop Azurite too.</summary>
    public async Task<int> TerminateAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode ?? 0;
        }

        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>A client for one of this host's Azurite accounts (devhost.json holds their keys and endpoints).</summary>
    public BlobServiceClient BlobService(string account)
    {
        using JsonDocument state = JsonDocument.Parse(File.ReadAllText(Path.Combine(StateDirectory, "devhost.json")));
        string endpoint = state.RootElement.GetProperty("azurite").GetProperty("blob").GetString()!;
        string key = state.RootElement.GetProperty("accounts").EnumerateArray()
            .Single(a => a.GetProperty("name").GetString() == account).GetProperty("key").GetString()!;
        return new BlobServiceClient(new Uri($"{endpoint}/{account}"), new StorageSharedKeyCredential(account, key));
    }

    /// <summary>A queue of the platform account (the trainer's training and poison queues live there).</summary>
    public Azure.Storage.Queues.QueueClient PlatformQueue(string name)
    {
        using JsonDocument state = JsonDocument.Parse(File.ReadAllText(Path.Combine(StateDirectory, "devhost.json")));
        string endpoint = state.RootElement.GetProperty("azurite").GetProperty("queue").GetString()!;
        string key = Storage().Keys["devstoreaccount1"];
        return new Azure.Storage.Queues.QueueClient(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};QueueEndpoint={endpoint}/devstoreaccount1;", name,
            new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
    }

    /// <summary>The emulator's accounts and endpoints as the dev host wrote them to devhost.json.</summary>
    public (string BlobEndpoint, string TableEndpoint, IReadOnlyDictionary<string, string> Keys) Storage()
    {
        using JsonDocument state = JsonDocument.Parse(File.ReadAllText(Path.Combine(StateDirectory, "devhost.json")));
        JsonElement azurite = state.RootElement.GetProperty("azurite");
        var keys = state.RootElement.GetProperty("accounts").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => a.GetProperty("key").GetString()!);
        return (azurite.GetProperty("blob").GetString()!, azurite.GetProperty("table").GetString()!, keys);
    }

    /// <summary>
    /// The platform's core services (registry, policy, audit) wired to this host's Azurite, as another instance of the
    /// function app would be: for checks that no HTTP route exposes, such as a platform activity using granted data.
    /// </summary>
    public ServiceProvider CoreServices(IReadOnlyDictionary<string, string?>? settings = null)
    {
        (string blob, string table, IReadOnlyDictionary<string, string> keys) = Storage();
        string platform = keys["devstoreaccount1"];
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lepton:Storage:PlatformConnection"] =
                $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={platform};BlobEndpoint={blob}/devstoreaccount1;TableEndpoint={table}/devstoreaccount1;",
            ["Lepton:Storage:TenantAccounts"] = string.Join(';', keys.Where(k => k.Key != "devstoreaccount1").Select(k => $"{k.Key}={k.Value}")),
            ["Lepton:Storage:TenantBlobEndpointTemplate"] = blob + "/{account}",
            ["Lepton:AdminKey"] = AdminKey,
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        return new ServiceCollection().AddLogging().AddLeptonCore(configuration).BuildServiceProvider();
    }

    public int? AzuritePid => File.Exists(Path.Combine(StateDirectory, "azurite.pid"))
        ? int.Parse(File.ReadAllText(Path.Combine(StateDirectory, "azurite.pid")))
        : null;

    /// <summary>The trainer worker's pid, once the host has started it (shortly after it is ready).</summary>
    public async Task<int> WaitForTrainerPidAsync()
    {
        string pidFile = Path.Combine(StateDirectory, "trainer.pid");
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (File.Exists(pidFile) && int.TryParse(await File.ReadAllTextAsync(pidFile), out int pid))
            {
                return pid;
            }
        }

        throw new TimeoutException($"The dev host started no trainer worker ({pidFile}).");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await TerminateAsync();
        }
        catch (TimeoutException)
        {
            _process?.Kill(entireProcessTree: true);
        }

        _process?.Dispose();
    }

    private void OnLine(string? line, TaskCompletionSource ready)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.StartsWith("Lepton dev host ready on ", StringComparison.Ordinal))
        {
            ready.TrySetResult();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
