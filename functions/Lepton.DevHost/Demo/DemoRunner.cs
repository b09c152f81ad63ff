namespace Lepton.DevHost.Demo;

public static class DemoRunner
{
    public static Task<int> RunAsync(Uri baseUrl, string adminKey, string samples, TextWriter output, CancellationToken ct) => Task.FromResult(0);
}
