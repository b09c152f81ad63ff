using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lepton.Api;
using Lepton.Client;
using Spectre.Console;

namespace Lepton.Cli;

/// <summary>
/// The `lepton` commands. Exit codes: 0 done, 1 the API refused (its problem detail is printed), 2 bad usage, 3 the run
/// failed or was cancelled, 4 not logged in. `--json` prints the API's JSON for scripts instead of tables.
/// </summary>
public sealed class LeptonCli(IAnsiConsole console)
{
    public const int Ok = 0, ApiError = 1, Usage = 2, RunFailed = 3, NotLoggedIn = 4;

    private static readonly Option<bool> JsonOption = new("--json") { Description = "print the API's JSON (for scripts)", Recursive = true };
    private static readonly Option<string?> TenantOption = new("--tenant") { Description = "the tenant (default: the one given at login)", Recursive = true };

    public static Task<int> RunAsync(string[] args, IAnsiConsole console) => new LeptonCli(console).Build().Parse(args).InvokeAsync();

    public RootCommand Build()
    {
        var root = new RootCommand("Lepton: cross-organization AI collaboration, from the command line.") { Options = { JsonOption, TenantOption } };
        root.Subcommands.Add(Login());
        root.Subcommands.Add(Upload());
        root.Subcommands.Add(Datasets());
        root.Subcommands.Add(Train());
        root.Subcommands.Add(Runs());
        root.Subcommands.Add(Models());
        root.Subcommands.Add(Predict());
        root.Subcommands.Add(Collab());
        root.Subcommands.Add(Audit());
        return root;
    }

    private Command Login()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "the API root, e.g. http://127.0.0.1:7071/api/", Required = true };
        var key = new Option<string>("--key") { Description = "an API key", Required = true };
        var command = new Command("login", "store the endpoint and key in your profile (file mode 600)") { Options = { endpoint, key } };
        command.SetAction(async (parse, ct) =>
        {
            var profile = new Profile(parse.GetValue(endpoint)!.TrimEnd('/') + "/", parse.GetValue(key)!, parse.GetValue(TenantOption));
            using LeptonClient client = LeptonClient.Create(new Uri(profile.Endpoint), profile.ApiKey);
            return await GuardAsync(parse, async () =>
            {
                await client.GetHealthAsync(ct);
                profile.Save();
                console.MarkupLineInterpolated($"Logged in to [bold]{profile.Endpoint}[/]; profile saved in {Profile.PathOf}.");
                return Ok;
            }, requireLogin: false);
        });
        return command;
    }

    private Command Upload()
    {
        var file = new Argument<FileInfo>("file") { Description = "the CSV file" };
        var dataset = new Option<string>("--dataset") { Description = "the dataset it belongs to", Required = true };
        var wait = new Option<bool>("--wait") { Description = "wait until it is ingested and show the version" };
        var command = new Command("upload", "upload a file to a dataset (with a progress bar)") { Arguments = { file }, Options = { dataset, wait } };
        command.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            FileInfo source = parse.GetValue(file)!;
            string name = parse.GetValue(dataset)!;
            if (!source.Exists)
            {
                console.MarkupLineInterpolated($"[red]No such file: {source.FullName}[/]");
                return Usage;
            }

            await console.Progress().StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask($"Uploading {source.Name}", maxValue: Math.Max(1, source.Length));
                await client.UploadFileAsync(tenant, name, source.FullName, new SyncProgress<long>(sent => task.Value = sent), ct);
                task.Value = task.MaxValue;
            });
            if (!parse.GetValue(wait))
            {
                console.MarkupLineInterpolated($"Uploaded; ingest starts now. [grey]lepton datasets {name}[/] shows it.");
                return Ok;
            }

            JsonElement result = await client.WaitForDatasetAsync(tenant, name, ct: ct);
            return Print(parse, result, () => DatasetSummary(result));
        }));
        return command;
    }

    private Command Datasets()
    {
        var name = new Argument<string?>("dataset") { Description = "one dataset's versions and runs", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("datasets", "list the tenant's datasets, or show one") { Arguments = { name } };
        command.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            if (parse.GetValue(name) is { } one)
            {
                JsonElement dataset = await client.GetDatasetAsync(tenant, one, ct: ct);
                return Print(parse, dataset, () => DatasetSummary(dataset));
            }

            JsonElement all = await client.ListDatasetsAsync(tenant, ct);
            return Print(parse, all, () =>
            {
                var table = new Table().AddColumns("dataset", "latest version", "rows");
                foreach (JsonElement d in all.GetProperty("datasets").EnumerateArray())
                {
                    table.AddRow(Text(d, "dataset"), Text(d, "latestVersion"), Text(d, "rows"));
                }

                console.Write(table);
            });
        }));
        return command;
    }

    private Command Train()
    {
        var name = new Option<string>("--name") { Description = "the model's name", Required = true };
        var datasets = new Option<string[]>("--dataset") { Description = "dataset or dataset@version (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = true };
        var label = new Option<string?>("--label") { Description = "the label column (default: the dataset's)" };
        var folds = new Option<int?>("--folds") { Description = "cross-validation folds (default 5)" };
        var candidates = new Option<string[]?>("--candidate") { Description = "candidate ids (default: all for the task)", AllowMultipleArgumentsPerToken = true };
        var heavy = new Option<bool>("--heavy") { Description = "train network candidates on the GPU trainer" };
        var classWeights = new Option<string?>("--class-weights") { Description = "\"balanced\": rare classes count as much as common ones (classification)" };
        var wait = new Option<bool>("--wait") { Description = "watch the run until it ends" };
        var command = new Command("train", "start a cross-validated training run") { Options = { name, datasets, label, folds, candidates, heavy, classWeights, wait } };
        command.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            RunStarted started = await client.StartTrainingAsync(tenant, new StartTrainingBody(parse.GetValue(name), parse.GetValue(datasets), parse.GetValue(label),
                null, null, parse.GetValue(folds), parse.GetValue(candidates), parse.GetValue(heavy) ? true : null,
                parse.GetValue(classWeights)), ct);
            if (!parse.GetValue(wait))
            {
                return Print(parse, JsonSerializer.SerializeToElement(started, LeptonClientJson), () =>
                    console.MarkupLineInterpolated($"Run [bold]{started.RunId}[/] started; [grey]lepton runs watch {started.RunId}[/] follows it."));
            }

            return await WatchAsync(parse, client, started.RunId, ct);
        }));
        return command;
    }

    private Command Runs()
    {
        var id = new Argument<string>("runId");
        var show = new Command("show", "a run's state") { Arguments = { id } };
        show.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) =>
        {
            Run run = await client.GetRunAsync(parse.GetValue(id)!, ct);
            return Print(parse, JsonSerializer.SerializeToElement(run, LeptonClientJson), () => console.WriteLine(Describe(run)));
        }));
        var watchId = new Argument<string>("runId");
        var watch = new Command("watch", "follow a run live until it ends (folds or rounds done, best so far)") { Arguments = { watchId } };
        watch.SetAction((parse, ct) => WithClientAsync(parse, (client, _) => WatchAsync(parse, client, parse.GetValue(watchId)!, ct)));
        var cancelId = new Argument<string>("runId");
        var cancel = new Command("cancel", "stop a run you started") { Arguments = { cancelId } };
        cancel.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) =>
        {
            Run run = await client.CancelRunAsync(parse.GetValue(cancelId)!, ct);
            return Print(parse, JsonSerializer.SerializeToElement(run, LeptonClientJson), () => console.WriteLine(Describe(run)));
        }));
        return new Command("runs", "training, ingest, federated and contribution runs") { Subcommands = { show, watch, cancel } };
    }

    private Command Models()
    {
        var model = new Argument<string>("model");
        var show = new Command("show", "a model's versions and the leaderboard of its latest") { Arguments = { model } };
        show.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            JsonElement found = await client.GetModelAsync(tenant, parse.GetValue(model)!, ct);
            return Print(parse, found, () =>
            {
                JsonElement latest = found.GetProperty("versions").EnumerateArray().Last();
                console.MarkupLineInterpolated($"[bold]{Text(found, "model")}[/] v{Text(latest, "version")} ({Text(latest, "stage")}): {Text(latest, "metric")} {Number(latest, "metricValue")}");
                string metric = Text(latest, "metric");
                var table = new Table().AddColumns("candidate", "trainer", metric, "± std", "folds", "error");
                foreach (JsonElement entry in latest.GetProperty("leaderboard").EnumerateArray())
                {
                    JsonElement? summary = entry.GetProperty("metrics").TryGetProperty(metric, out JsonElement m) ? m : null;
                    table.AddRow(Text(entry, "candidateId"), Text(entry, "trainer"), summary is { } s ? Number(s, "mean") : "-", summary is { } d ? Number(d, "std") : "-",
                        Text(entry, "foldsSucceeded"), Markup.Escape(Text(entry, "error")));
                }

                console.Write(table);
            });
        }));
        var list = new Command("list", "the tenant's models with their latest and production versions");
        list.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            JsonElement found = await client.ListModelsAsync(tenant, ct);
            return Print(parse, found, () =>
            {
                var table = new Table().AddColumns("model", "latest", "production");
                foreach (JsonElement entry in found.GetProperty("models").EnumerateArray())
                {
                    table.AddRow(Markup.Escape(Text(entry, "model")), Text(entry, "latestVersion"), Text(entry, "productionVersion") is { Length: > 0 } p ? p : "-");
                }

                console.Write(table);
            });
        }));
        return new Command("models", "trained models") { Subcommands = { list, show } };
    }

    private Command Predict()
    {
        var model = new Argument<string>("model");
        var file = new Option<FileInfo>("--file") { Description = "rows to score: a CSV with a header, or JSON (an array of objects, or {rows: [...]})", Required = true };
        var command = new Command("predict", "score rows with a model's production version") { Arguments = { model }, Options = { file } };
        command.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            List<IReadOnlyDictionary<string, object?>> rows = ReadRows(parse.GetValue(file)!);
            JsonElement result = await client.PredictAsync(tenant, parse.GetValue(model)!, rows, ct);
            return Print(parse, result, () =>
            {
                var table = new Table().AddColumns("row", "label", "score");
                int i = 1;
                foreach (JsonElement p in result.GetProperty("predictions").EnumerateArray())
                {
                    table.AddRow((i++).ToString(CultureInfo.InvariantCulture), Text(p, "label"), Number(p, "score"));
                }

                console.Write(table);
            });
        }));
        return command;
    }

    private Command Collab()
    {
        var id = new Option<string>("--id") { Required = true };
        var members = new Option<string[]>("--member") { Description = "member tenants (repeat)", Required = true, AllowMultipleArgumentsPerToken = true };
        var label = new Option<string>("--label") { Required = true };
        var mode = new Option<string?>("--mode") { Description = "pooled (default) or federated" };
        var propose = new Command("propose", "propose a collaboration (counts as your acceptance)") { Options = { id, members, label, mode } };
        propose.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) => Print(parse, await client.ProposeCollaborationAsync(
            new CollaborationProposal(parse.GetValue(id), null, parse.GetValue(members), new CollaborationTaskBody(parse.GetValue(label), null, null), parse.GetValue(mode), null, null), ct))));

        Command Simple(string name, string description, Func<LeptonClient, string, CancellationToken, Task<JsonElement>> call)
        {
            var collaboration = new Argument<string>("collaboration");
            var command = new Command(name, description) { Arguments = { collaboration } };
            command.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) => Print(parse, await call(client, parse.GetValue(collaboration)!, ct))));
            return command;
        }

        var trainId = new Argument<string>("collaboration");
        var model = new Option<string>("--name") { Required = true };
        var wait = new Option<bool>("--wait");
        var train = new Command("train", "train the collaboration's model (pooled or federated, as agreed)") { Arguments = { trainId }, Options = { model, wait } };
        train.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) =>
        {
            RunStarted started = await client.StartCollaborationTrainingAsync(parse.GetValue(trainId)!, new StartCollaborationTrainingBody(parse.GetValue(model), null, null), ct);
            return parse.GetValue(wait) ? await WatchAsync(parse, client, started.RunId, ct) : Print(parse, JsonSerializer.SerializeToElement(started, LeptonClientJson));
        }));
        var contributionsId = new Argument<string>("collaboration");
        var contributionModel = new Option<string>("--model") { Required = true };
        var contributions = new Command("contributions", "measure each member's contribution to a model (Shapley by default)") { Arguments = { contributionsId }, Options = { contributionModel, wait } };
        contributions.SetAction((parse, ct) => WithClientAsync(parse, async (client, _) =>
        {
            RunStarted started = await client.StartContributionsAsync(parse.GetValue(contributionsId)!, parse.GetValue(contributionModel)!, new ContributionBody(null, null, null, null, null), ct);
            return parse.GetValue(wait) ? await WatchAsync(parse, client, started.RunId, ct) : Print(parse, JsonSerializer.SerializeToElement(started, LeptonClientJson));
        }));
        return new Command("collab", "collaborations between organizations")
        {
            Subcommands =
            {
                propose,
                Simple("accept", "accept a proposal or a change of terms", (c, id, ct) => c.AcceptCollaborationAsync(id, ct)),
                Simple("show", "members, acceptance, contributed data and models", (c, id, ct) => c.GetCollaborationAsync(id, ct)),
                Simple("data", "each member's granted data and whether it fits the task", (c, id, ct) => c.GetCollaborationDataAsync(id, ct)),
                train,
                contributions,
                Simple("ledger", "predictions per member and period, and the credits they earned", (c, id, ct) => c.GetLedgerAsync(id, ct)),
            },
        };
    }

    private Command Audit()
    {
        var verify = new Command("verify", "check the tenant's audit chain and every signed tree head");
        verify.SetAction((parse, ct) => WithClientAsync(parse, async (client, tenant) =>
        {
            JsonElement result = await client.VerifyAuditAsync(tenant, ct);
            bool valid = result.GetProperty("valid").GetBoolean();
            Print(parse, result, () => console.MarkupLine(valid
                ? $"[green]valid[/]: {Text(result, "entries")} entries, {Text(result, "signedHeads")} signed heads"
                : $"[red]NOT valid[/]: {Markup.Escape(Text(result, "problem"))}"));
            return valid ? Ok : RunFailed;
        }));
        return new Command("audit", "the tenant's tamper-evident audit log") { Subcommands = { verify } };
    }

    private async Task<int> WatchAsync(ParseResult parse, LeptonClient client, string runId, CancellationToken ct)
    {
        Run? last = null;
        if (parse.GetValue(JsonOption))
        {
            last = await client.WaitForRunAsync(runId, ct: ct);
        }
        else
        {
            await console.Status().StartAsync("starting", async status =>
            {
                last = await client.WaitForRunAsync(runId, new SyncProgress<Run>(run => status.Status(Markup.Escape(Describe(run)))), ct: ct);
            });
        }

        Print(parse, JsonSerializer.SerializeToElement(last!, LeptonClientJson), () => console.WriteLine(Describe(last!)));
        return last!.Status == "Completed" ? Ok : RunFailed;
    }

    /// <summary>One line for a run: its stage and counts, the leading candidate, or the federated round.</summary>
    internal static string Describe(Run run)
    {
        string progress = run.Progress is { } p ? $"{p.Stage} {p.Done}/{p.Total}" : "";
        string extra = run.Details is { ValueKind: JsonValueKind.Object } d
            ? d.TryGetProperty("Best", out JsonElement best) && best.ValueKind == JsonValueKind.String
                ? $", best {best.GetString()} {(d.TryGetProperty("BestMetric", out JsonElement m) && m.ValueKind == JsonValueKind.Number ? m.GetDouble().ToString("F4", CultureInfo.InvariantCulture) : "")}"
                : d.TryGetProperty("Round", out JsonElement round) ? $", round {round}" : ""
            : "";
        return $"{run.RunId}: {run.Status} {progress}{extra}" + (run.Error is { } e ? $" — {e}" : "");
    }

    private void DatasetSummary(JsonElement dataset)
    {
        var table = new Table().AddColumns("version", "rows", "run", "received");
        foreach (JsonElement v in dataset.GetProperty("versions").EnumerateArray())
        {
            table.AddRow(Text(v, "version"), Text(v, "rows"), Text(v, "runId"), Text(v, "createdAt"));
        }

        console.MarkupLineInterpolated($"[bold]{Text(dataset, "dataset")}[/]: latest version {Text(dataset, "latestVersion")}");
        console.Write(table);
        foreach (JsonElement run in dataset.GetProperty("runs").EnumerateArray().Where(r => Text(r, "status") == "rejected"))
        {
            console.MarkupLineInterpolated($"[red]rejected[/] {Text(run, "fileName")}: {Text(run, "reason")}");
        }
    }

    private int Print(ParseResult parse, JsonElement json, Action? human = null)
    {
        if (parse.GetValue(JsonOption) || human is null)
        {
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            human();
        }

        return Ok;
    }

    private async Task<int> WithClientAsync(ParseResult parse, Func<LeptonClient, string, Task<int>> action)
    {
        Profile? profile = Profile.Load();
        if (profile is null)
        {
            console.MarkupLine("[red]Not logged in[/]: run [bold]lepton login --endpoint <url> --key <key>[/] first.");
            return NotLoggedIn;
        }

        string? tenant = parse.GetValue(TenantOption) ?? profile.Tenant;
        using LeptonClient client = LeptonClient.Create(new Uri(profile.Endpoint), profile.ApiKey, TimeSpan.FromMilliseconds(500));
        return await GuardAsync(parse, () => action(client, tenant ?? ""), requireLogin: true);
    }

    private async Task<int> GuardAsync(ParseResult parse, Func<Task<int>> action, bool requireLogin)
    {
        try
        {
            return await action();
        }
        catch (LeptonApiException e)
        {
            console.MarkupLineInterpolated($"[red]{(int)e.Status} {e.Title ?? "error"}[/]: {e.Detail ?? e.Message}");
            return ApiError;
        }
        catch (HttpRequestException e)
        {
            console.MarkupLineInterpolated($"[red]Cannot reach the API[/]: {e.Message}");
            return ApiError;
        }
    }

    /// <summary>Rows from a CSV (header, numbers parsed) or a JSON file (an array of objects, or {"rows": [...]}).</summary>
    internal static List<IReadOnlyDictionary<string, object?>> ReadRows(FileInfo file)
    {
        string text = File.ReadAllText(file.FullName);
        if (file.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            JsonElement root = JsonDocument.Parse(text).RootElement;
            JsonElement rows = root.ValueKind == JsonValueKind.Object ? root.GetProperty("rows") : root;
            return rows.EnumerateArray().Select(r => (IReadOnlyDictionary<string, object?>)r.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value)).ToList();
        }

        string[] lines = text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] header = lines[0].Split(',');
        return lines.Skip(1).Select(line => (IReadOnlyDictionary<string, object?>)header.Zip(line.Split(','))
            .ToDictionary(p => p.First, p => double.TryParse(p.Second, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number
                : bool.TryParse(p.Second, out bool flag) ? flag : (object?)p.Second)).ToList();
    }

    private static readonly JsonSerializerOptions LeptonClientJson = new(JsonSerializerDefaults.Web);

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) ? v.ValueKind switch { JsonValueKind.String => v.GetString() ?? "", JsonValueKind.Null => "", _ => v.ToString() } : "";

    private static string Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("F4", CultureInfo.InvariantCulture) : "";

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
