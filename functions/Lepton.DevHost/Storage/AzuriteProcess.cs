using System.Diagnostics;
using System.Net.Sockets;

namespace Lepton.DevHost.Storage;

/// <summary>
/// Azurite from the repository's package.json, as a child process. In memory by default, in a folder with --persist.
/// A pid file lets the next start stop an emulator that a killed dev host left behind.
/// </summary>
public sealed partial class AzuriteProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _pidFile;
    private readonly string _logFile;

    private AzuriteProcess(Process process, string pidFile, string logFile, AzuritePorts ports)
    {
        _process = process;
        _pidFile = pidFile;
        _logFile = logFile;
        Ports = ports;
    }

    public AzuritePorts Ports { get; }

    public static async Task<AzuriteProcess> StartAsync(string repoRoot, string stateDirectory, LocalAccounts accounts, AzuritePorts ports, bool persist, ILogger logger, CancellationToken ct)
    {
        string script = Path.Combine(repoRoot, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            await RunNpmInstallAsync(repoRoot, logger, ct);
        }

        // Azurite starts through a small script of ours that corrects LokiJS's index upkeep first (see the script).
        string launcher = Path.Combine(repoRoot, "functions", "Lepton.DevHost", "Storage", "start-azurite.js");
        string pidFile = Path.Combine(stateDirectory, "azurite.pid");
        // Azurite writes its output to a file, not to pipes of this process: after a kill -9 of the dev host those pipes are
        // broken, and Azurite's shutdown message then fails with EPIPE and ends the process before it writes its in-memory
        // state to disk — a restarted host found queues from seconds earlier than the tables (a run stuck for good).
        string logFile = Path.Combine(stateDirectory, "azurite.log");
        await StopLeftoverAsync(pidFile, logFile, logger);
        var start = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true }
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "exec node \"$@\" >>\"$AZURITE_LOG\" 2>&1", "azurite" } };
        start.WorkingDirectory = repoRoot;
        start.UseShellExecute = false;
        start.Environment["AZURITE_LOG"] = logFile;
        foreach (string arg in new[]
        {
            launcher, script, "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", ports.Blob.ToString(), "--queuePort", ports.Queue.ToString(), "--tablePort", ports.Table.ToString(),
            "--skipApiVersionCheck", "--loose", "--silent", "--disableProductStyleUrl", "--disableTelemetry",
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (persist)
        {
            string location = Path.Combine(stateDirectory, "azurite");
            Directory.CreateDirectory(location);
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(location);
        }
        else
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }

        start.Environment["AZURITE_ACCOUNTS"] = accounts.AzuriteAccountsVariable;
        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node for Azurite.");
        if (OperatingSystem.IsWindows())
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) { LogOutput(logger, line); } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) { LogOutput(logger, line); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        await File.WriteAllTextAsync(pidFile, process.Id.ToString(), ct);
        var azurite = new AzuriteProcess(process, pidFile, logFile, ports);
        try
        {
            await WaitForPortsAsync(process, ports, ct);
        }
        catch (InvalidOperationException e) when (File.Exists(logFile))
        {
            await azurite.DisposeAsync();
            string[] tail = (await File.ReadAllLinesAsync(logFile, CancellationToken.None)).TakeLast(10).ToArray();
            throw new InvalidOperationException($"{e.Message} Azurite's last output ({logFile}):\n{string.Join('\n', tail)}", e);
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    public async ValueTask DisposeAsync()
    {
        await StopGracefullyAsync(_process, _logFile);
        File.Delete(_pidFile);
        _process.Dispose();
    }

    /// <summary>
    /// SIGTERM, then SIGKILL once Azurite has saved. On SIGTERM each of its three services stops taking requests, closes
    /// its metadata store — which writes the in-memory state to disk — and then prints "... service successfully closed";
    /// the process itself lingers for about a minute on timers, which a user pressing Ctrl-C should not wait for. So the
    /// three messages in its log end the wait; without them (no log file, an older Azurite) <see cref="SaveGrace"/> does.
    /// </summary>
    /// <returns>False when it had to be killed before it said it had saved.</returns>
    private static async Task<bool> StopGracefullyAsync(Process process, string logFile)
    {
        try
        {
            if (process.HasExited)
            {
                return true;
            }

            long logged = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
            _ = kill(process.Id, SigTerm);
            var waited = Stopwatch.StartNew();
            bool saved = false;
            while (!process.HasExited && !(saved = ClosedServices(logFile, logged) == ServiceCount) && waited.Elapsed < SaveGrace)
            {
                await Task.Delay(ClosePollInterval);
            }

            if (process.HasExited)
            {
                return true;
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            return saved;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone.
            return true;
        }
    }

    /// <summary>How many of Azurite's services said "successfully closed" in its log after <paramref name="offset"/>.</summary>
    private static int ClosedServices(string logFile, long offset)
    {
        try
        {
            using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            string written = new StreamReader(stream).ReadToEnd();
            return new[] { "Blob", "Queue", "Table" }.Count(service => written.Contains($"Azurite {service} service successfully closed", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private const int SigTerm = 15;

    /// <summary>Azurite's autosave interval (5 s) and a margin: by then its state is on disk even if its log said nothing.</summary>
    private static readonly TimeSpan SaveGrace = TimeSpan.FromSeconds(7);

    private static readonly TimeSpan ClosePollInterval = TimeSpan.FromMilliseconds(25);

    private const int ServiceCount = 3;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private static async Task WaitForPortsAsync(Process process, AzuritePorts ports, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (int port in new[] { ports.Blob, ports.Queue, ports.Table })
        {
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} during start-up (is port {port} in use?).");
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port, ct);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100, ct);
                }
            }
        }
    }

    private static async Task StopLeftoverAsync(string pidFile, string logFile, ILogger logger)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile), out int pid))
        {
            return;
        }

        try
        {
            using Process old = Process.GetProcessById(pid);
            string commandLine = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline") : "";
            if (commandLine.Contains("azurite", StringComparison.OrdinalIgnoreCase))
            {
                LogLeftover(logger, pid);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                bool graceful = await StopGracefullyAsync(old, logFile);
                LogLeftoverStopped(logger, pid, graceful ? "saved and stopped" : "was killed before it said it had saved", clock.Elapsed.TotalSeconds);
            }
        }
        catch (ArgumentException)
        {
            // No such process any more.
        }

        File.Delete(pidFile);
    }

    private static async Task RunNpmInstallAsync(string repoRoot, ILogger logger, CancellationToken ct)
    {
        LogInstalling(logger, repoRoot);
        bool locked = File.Exists(Path.Combine(repoRoot, "package-lock.json"));
        var start = new ProcessStartInfo("npm") { WorkingDirectory = repoRoot, UseShellExecute = false };
        foreach (string arg in new[] { locked ? "ci" : "install", "--no-audit", "--no-fund" })
        {
            start.ArgumentList.Add(arg);
        }

        using Process npm = Process.Start(start) ?? throw new InvalidOperationException("Could not start npm to install Azurite.");
        await npm.WaitForExitAsync(ct);
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"'npm {start.ArgumentList[0]}' failed with exit code {npm.ExitCode}; Azurite is needed to run locally.");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "azurite: {Line}")]
    private static partial void LogOutput(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "The Azurite left behind (pid {Pid}) {How} after {Seconds:F1} s")]
    private static partial void LogLeftoverStopped(ILogger logger, int pid, string how, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping Azurite (pid {Pid}) left behind by an earlier dev host")]
    private static partial void LogLeftover(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Installing Azurite with npm in {Folder}")]
    private static partial void LogInstalling(ILogger logger, string folder);
}
