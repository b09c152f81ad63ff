using Lepton.Cli;
using Spectre.Console;

return await LeptonCli.RunAsync(args, AnsiConsole.Console);
