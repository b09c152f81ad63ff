using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Lepton.Functions.Http;

/// <summary>
/// The web console's built files (console/ beside the app's assembly, copied there by the build). Only files of the known
/// kinds directly in that folder are served; the console holds no data, so the route is open and every call it makes
/// goes through the API with the signed-in user's key.
/// </summary>
public static class ConsoleAssets
{
    /// <summary>Scripts, styles and data only from the app itself; no inline script, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".map"] = "application/json",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
    };

    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "console");

    /// <summary>
    /// The file for <paramref name="path"/> ("" = index.html); the console's own URL without its trailing slash redirects,
    /// so that the page's relative asset paths resolve under the console.
    /// </summary>
    public static IActionResult Serve(HttpRequest request, string? path)
    {
        if (string.IsNullOrEmpty(path) && !request.Path.Value!.EndsWith('/'))
        {
            return new RedirectResult(request.PathBase + request.Path + "/", permanent: false);
        }

        string name = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (name.IndexOfAny(['/', '\\']) >= 0 || name.StartsWith('.') || !ContentTypes.TryGetValue(Path.GetExtension(name), out string? contentType))
        {
            return new NotFoundResult();
        }

        string file = Path.Combine(Folder, name);
        if (!File.Exists(file))
        {
            return new NotFoundResult();
        }

        IHeaderDictionary headers = request.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Not fingerprinted: revalidate each time, so a deployment is seen at once.
        headers.CacheControl = "no-cache";
        return new PhysicalFileResult(file, contentType) { LastModified = File.GetLastWriteTimeUtc(file), EnableRangeProcessing = false };
    }
}
