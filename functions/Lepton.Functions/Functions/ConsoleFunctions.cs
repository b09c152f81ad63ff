using Lepton.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Lepton.Functions.Functions;

public static class ConsoleFunctions
{
    /// <summary>The web console (static files; open, because it can do nothing without the key its user signs in with).</summary>
    [Function(nameof(GetConsole))]
    public static IActionResult GetConsole(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{*path}")] HttpRequest request, string? path) =>
        ConsoleAssets.Serve(request, path);
}
