using System.Text.Json;
using Lepton.Cli;
using Lepton.Tests.Integration.Infrastructure;
using Spectre.Console;

namespace Lepton.Tests.Integration;

/// <summary>The `lepton` command-line tool against the dev host, as a partner runs it (in process, its console captured).</summary>
[Collection(DevHostCollection.Name)]
public sealed class CliTests(DevHostFixture fixture) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("lepton-cli-home").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        Environment.SetEnvironmentVariable("LEPTON_HOME", _home);
        int exit = await LeptonCli.RunAsync(args, console);
        return (exit, output.ToString());
    }

    [Fact]
    public async Task Cli_PartnerFlow_LoginUploadTrainShowPredictVerify()
    {
        // Arrange
        (string key, _) = await fixture.Client.CreateTenantAsync("cli-flow");
        string api = new Uri(fixture.Host.BaseUrl, "/api/").ToString();
        string data = Path.Combine(_home, "a.csv");
        await File.WriteAllBytesAsync(data, TestData.Sample("breast_cancer_hospital_a.csv"));
        string[] lines = TestData.Lines(TestData.Sample("breast_cancer_hospital_a.csv"));
        int label = Array.IndexOf(lines[0].Split(','), "malignant");
        string rows = Path.Combine(_home, "rows.csv");
        await File.WriteAllLinesAsync(rows, lines.Take(4).Select(l => string.Join(',', l.Split(',').Where((_, i) => i != label))));

        // Act
        var login = await RunAsync("login", "--endpoint", api, "--key", key, "--tenant", "cli-flow");
        var upload = await RunAsync("upload", data, "--dataset", "bc", "--wait");
        var train = await RunAsync("train", "--name", "bc", "--dataset", "bc", "--label", "malignant", "--folds", "3", "--candidate", "lbfgs-lr-l2-1", "sdca-lr", "--wait");
        var show = await RunAsync("models", "show", "bc");
        var list = await RunAsync("models", "list", "--json");
        var predict = await RunAsync("predict", "bc", "--file", rows, "--json");
        var verify = await RunAsync("audit", "verify");
        var missing = await RunAsync("models", "show", "nothing-here");

        // Assert
        Assert.Equal(LeptonCli.Ok, login.Exit);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Lepton.Cli.Profile.PathOf));
        }

        Assert.True(upload.Exit == LeptonCli.Ok, upload.Output);
        Assert.Contains("latest version 1", upload.Output);
        Assert.True(train.Exit == LeptonCli.Ok, train.Output);
        Assert.Contains("Completed", train.Output);
        Assert.Contains("lbfgs-lr-l2-1", show.Output);
        Assert.Contains("sdca-lr", show.Output);
        JsonElement listed = Assert.Single(JsonDocument.Parse(list.Output).RootElement.GetProperty("models").EnumerateArray());
        Assert.Equal("bc", listed.GetProperty("model").GetString());
        Assert.Equal(1, listed.GetProperty("productionVersion").GetInt32());
        Assert.Equal(LeptonCli.Ok, predict.Exit);
        Assert.Equal(3, JsonDocument.Parse(predict.Output).RootElement.GetProperty("predictions").GetArrayLength());
        Assert.Equal(LeptonCli.Ok, verify.Exit);
        Assert.Contains("valid", verify.Output);
        Assert.Equal(LeptonCli.ApiError, missing.Exit);
        Assert.Contains("404", missing.Output);
    }

    [Fact]
    public async Task Cli_NotLoggedIn_SaysHowAndExits4()
    {
        var result = await RunAsync("datasets");

        Assert.Equal(LeptonCli.NotLoggedIn, result.Exit);
        Assert.Contains("lepton login", result.Output);
    }
}
