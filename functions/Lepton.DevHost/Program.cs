using System.CommandLine;
using System.CommandLine.Help;
using Lepton.DevHost;

ParseResult parsed = DevHostOptions.Command.Parse(args);
if (parsed.Errors.Count > 0 || parsed.Action is HelpAction)
{
    // Prints the errors (exit code 1) or the help text (exit code 0), as every System.CommandLine tool does.
    return parsed.Invoke();
}

return await DevHostApp.RunAsync(DevHostOptions.From(parsed));
