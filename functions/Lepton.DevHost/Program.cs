using Lepton.DevHost;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(DevHostOptions.Usage);
    return 0;
}

DevHostOptions options;
try
{
    options = DevHostOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(DevHostOptions.Usage);
    return 2;
}

return await DevHostApp.RunAsync(options);
