using System.Diagnostics;

namespace Lepton.DevHost.Storage;

/// <summary>
/// The GPU trainer worker (functions/Lepton.Trainer) as a child process on Azurite's training queue: the same program
/// the Container Apps job runs in Azure, minus the GPU. If it dies it is started again after a pause, as the job would
/// be; its pid is in &lt;state-dir&gt;/trainer.pid.
/// </summary>
public sealed partial class TrainerProcess : IAsyncDisposable
{
    private readonly string _dll;
    private readonly string _pidFile;
    private readonly string _queueConnection;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _supervisor;

    private TrainerProcess(string dll, string pidFile, string queueConnection, ILogger logger) =>
        (_dll, _pidFile, _queueConnection, _logger) = (dll, pidFile, queueConnection, logger);

    public static TrainerProcess? Start(string repoRoot, string stateDirectory, string queueConnection, ILogger logger)
    {
        // Built next to the dev host (it references the project): same configuration folder.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string dll = Path.Combine(repoRoot, "functions", "Lepton.Trainer", "bin", configuration, "net10.0", "Lepton.Trainer.dll");
        if (!File.Exists(dll))
        {
            LogMissing(logger, dll);
            return null;
        }

        var trainer = new TrainerProcess(dll, Path.Combine(stateDirectory, "trainer.pid"), queueConnection, logger);
        trainer._supervisor = trainer.SuperviseAsync();
        return trainer;
    }

    private async Task SuperviseAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(_dll);
            // The child inherits the dev host's environment (Lepton__Trainer__* settings included); the queue is this host's Azurite.
            start.Environment["Lepton__Trainer__QueueConnection"] = _queueConnection;
            start.Environment["Lepton__Trainer__ParentProcessId"] = Environment.ProcessId.ToString();
            using Process process = Process.Start(start)!;
            await File.WriteAllTextAsync(_pidFile, process.Id.ToString());
            process.OutputDataReceived += (_, e) => Forward(e.Data);
            process.ErrorDataReceived += (_, e) => Forward(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(_stopping.Token);
                LogExited(_logger, process.ExitCode);
                await Task.Delay(TimeSpan.FromSeconds(2), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                // The supervisor owns the process object: it kills the worker before its using block disposes it (a
                // kill from elsewhere raced that disposal — the worker was left running, or the wait for it never ended).
                await KillAsync(process);
                return;
            }
        }
    }

    private static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private void Forward(string? line)
    {
        if (line is { Length: > 0 })
        {
            Console.WriteLine("trainer: " + line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_supervisor is not null)
        {
            await _supervisor;
        }

        File.Delete(_pidFile);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The trainer worker is not built ({Path}); heavy candidates will time out")]
    private static partial void LogMissing(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The trainer worker exited with code {Code}; starting it again")]
    private static partial void LogExited(ILogger logger, int code);
}
