using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lepton.Api;
using Lepton.Tests.Integration.Infrastructure;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Lepton.Tests.Integration;

/// <summary>
/// The web console in a real browser (Debian's headless Chromium through its ChromeDriver) against the dev host, with data
/// made through the API: what a partner sees must be what the API says. Screenshots of every view, at desktop and phone
/// width, are kept under TestResults/console/ as artifacts.
/// </summary>
[Collection(DevHostCollection.Name)]
public sealed class ConsoleTests(DevHostFixture fixture)
{
    private const string HospitalA = "console-a", HospitalB = "console-b", Dataset = "tumours", Collaboration = "console-onc", Model = "tumour-risk";
    private const string Federation = "console-fed";
    private const int Rounds = 4;
    private static readonly string Screenshots = Path.Combine(DevHostProcess.RepoRoot, "TestResults", "console");
    private readonly LeptonClient _client = fixture.Client;

    [Fact]
    public async Task GetConsole_Files_AreServedWithSecurityHeadersAndNothingOutsideTheFolder()
    {
        // Arrange: a browser-like client that shows redirects instead of following them
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Host.BaseUrl };

        // Act
        using HttpResponseMessage bare = await http.GetAsync(new Uri("/api/console", UriKind.Relative));
        using HttpResponseMessage index = await _client.SendAsync(HttpMethod.Get, "/api/console/", null);
        using HttpResponseMessage script = await _client.SendAsync(HttpMethod.Get, "/api/console/app.js", null);
        using HttpResponseMessage outside = await _client.SendAsync(HttpMethod.Get, "/api/console/..%2Fhost.json", null);
        using HttpResponseMessage hidden = await _client.SendAsync(HttpMethod.Get, "/api/console/host.json", null);

        // Assert: the bare URL redirects to the folder (so relative assets resolve), files carry a strict policy
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.EndsWith("/api/console/", bare.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("<main", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }

    [SkippableFact]
    public void Console_WrongKey_ShowsClearSignInErrorAndStaysSignedOut()
    {
        // Arrange
        using ChromeDriver browser = StartBrowser();
        browser.Navigate().GoToUrl(new Uri(fixture.Host.BaseUrl, "/api/console/"));

        // Act
        SignIn(browser, "no-such-tenant", "lep_0000000000000000_not-a-real-key");

        // Assert
        string error = Wait(browser).Until(d => d.FindElement(By.Id("sign-in-error")).Text is { Length: > 0 } t ? t : null);
        Screenshot(browser, "sign-in-error");
        Assert.Contains("the API key was not accepted", error, StringComparison.Ordinal);
        Assert.False(browser.FindElement(By.Id("nav")).Displayed);
        Assert.Empty(SevereBrowserErrors(browser, allow: "401"));
    }

    [SkippableFact]
    public async Task Console_SignedInPartner_ShowsWhatTheApiSaysInEveryView()
    {
        // Arrange: two hospitals with data (one also with a rejected file), a model of its own, and a pooled model with contributions
        using ChromeDriver browser = StartBrowser();
        World world = await BuildWorldAsync();
        browser.Navigate().GoToUrl(new Uri(fixture.Host.BaseUrl, "/api/console/"));
        try
        {
            // Act + Assert, view by view
            await WalkThroughEveryViewAsync(browser, world);
        }
        catch (Exception e) when (e is not SkipException)
        {
            Screenshot(browser, "failure");
            throw new Xunit.Sdk.XunitException($"{e.Message}\nBrowser errors: {string.Join(" | ", SevereBrowserErrors(browser))}\nScreenshot: {Screenshots}/failure.png\n{e}");
        }
    }

    private async Task WalkThroughEveryViewAsync(ChromeDriver browser, World world)
    {
        SignIn(browser, HospitalA, world.KeyA);
        Wait(browser).Until(d => d.FindElement(By.LinkText(Dataset)));
        Assert.EndsWith($"({HospitalA})", browser.FindElement(By.Id("who")).Text, StringComparison.Ordinal);
        Capture(browser, "datasets");

        browser.FindElement(By.LinkText(Dataset)).Click();
        string rowsInOut = Wait(browser).Until(d => d.FindElement(By.Id("rows-in-out")).Text);
        Assert.Equal($"{world.RowsIn:N0} rows in → {world.RowsOut:N0} rows out", rowsInOut);
        Wait(browser).Until(d => d.FindElements(By.CssSelector("td canvas")).Count >= 5);
        Assert.Contains("header.csv", browser.FindElement(By.ClassName("rejection")).Text, StringComparison.Ordinal);
        Capture(browser, "dataset");

        Go(browser, $"#/models/{Model}");
        string best = Wait(browser).Until(d => d.FindElement(By.Id("best-candidate")).Text);
        Assert.StartsWith($"Chosen: {world.BestCandidate} ", best, StringComparison.Ordinal);
        Assert.Contains("best", browser.FindElement(By.XPath($"//tr[td/strong[starts-with(., '{world.BestCandidate}')]]")).GetAttribute("class"), StringComparison.Ordinal);
        // The table keeps training's ranking, whichever way the metric points: the chosen candidate is its first row.
        Assert.Equal("best", browser.FindElement(By.XPath("//table[caption[starts-with(., 'Candidates as ranked')]]/tbody/tr[1]")).GetAttribute("class"));
        Capture(browser, "model");
        browser.FindElement(By.Id("download-onnx")).Click();
        string downloaded = Wait(browser).Until(d => d.FindElement(By.Id("download-status")).Text is { Length: > 0 } t ? t : null);
        Assert.Matches(@"^Downloaded [\d,]+ bytes\.$", downloaded);

        foreach (IWebElement input in browser.FindElements(By.CssSelector(".grid-form input")))
        {
            input.SendKeys(world.ExampleRow[input.GetAttribute("name")!]);
        }

        browser.FindElement(By.Id("predict-submit")).Click();
        string prediction = Wait(browser).Until(d => d.FindElement(By.Id("prediction")).Text is { } t && t.Contains("Score", StringComparison.Ordinal) ? t : null);
        Assert.Contains("P(true)", prediction, StringComparison.Ordinal);

        Go(browser, $"#/runs/{world.TrainingRun}");
        Assert.Equal("Completed", Wait(browser).Until(d => d.FindElement(By.Id("run-status")).Text is { Length: > 0 } t ? t : null));
        Capture(browser, "run");

        Go(browser, "#/runs");
        Wait(browser).Until(d => d.FindElement(By.LinkText(world.FederatedRun)));
        Go(browser, $"#/runs/{world.FederatedRun}");
        Wait(browser).Until(d => d.FindElement(By.CssSelector("section[aria-label='Federated rounds'] canvas")));
        Assert.Equal(Rounds, browser.FindElements(By.CssSelector("section[aria-label='Federated rounds'] tbody tr")).Count);
        Capture(browser, "federated-run");
        browser.FindElement(By.LinkText($"Open {Model} v1")).Click();
        Assert.Equal($"Model {Model} of {Federation}", Wait(browser).Until(d => d.FindElement(By.CssSelector("#main h1")).Text is { } t && t.Contains(" of ", StringComparison.Ordinal) ? t : null));

        Go(browser, $"#/collaborations/{Collaboration}");
        Wait(browser).Until(d => d.FindElements(By.ClassName("share")).Count == 2);
        double[] shares = browser.FindElements(By.ClassName("share")).Select(e => double.Parse(e.Text.Replace(" %", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(shares.Sum(), 99.85, 100.15);
        Assert.Equal($"Total: {world.ShareTotal:F1} %", browser.FindElement(By.Id($"share-total-{world.PooledModel}")).Text);
        Assert.Equal("100.0", world.ShareTotal.ToString("F1", CultureInfo.InvariantCulture));
        Assert.Contains(HospitalB, Wait(browser).Until(d => d.FindElement(By.Id("ledger")).Text), StringComparison.Ordinal);
        Capture(browser, "collaboration");

        // (the chain keeps growing meanwhile: usage and signed heads are appended in the background)
        long before = await AuditEntriesAsync(world.KeyA);
        Go(browser, "#/audit");
        string verdict = Wait(browser).Until(d => d.FindElement(By.Id("audit-verdict")).Text);
        long after = await AuditEntriesAsync(world.KeyA);
        System.Text.RegularExpressions.Match shown = System.Text.RegularExpressions.Regex.Match(verdict, @"^The chain of ([\d,]+) entries verifies");
        Assert.True(shown.Success, verdict);
        Assert.InRange(long.Parse(shown.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture), before, after);
        Assert.InRange(browser.FindElements(By.CssSelector("#main table tbody tr")).Count, Math.Min(before, 100), Math.Min(after, 100));
        Capture(browser, "audit");

        Assert.Empty(SevereBrowserErrors(browser));
    }

    private async Task<long> AuditEntriesAsync(string key) =>
        (await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{HospitalA}/audit/verify", key))["entries"]!.GetValue<long>();

    private sealed record World(string KeyA, long RowsIn, long RowsOut, string BestCandidate, string TrainingRun, Dictionary<string, string> ExampleRow,
        string PooledModel, double ShareTotal, string FederatedRun);

    private async Task<World> BuildWorldAsync()
    {
        (string a, _) = await _client.CreateTenantAsync(HospitalA);
        (string b, _) = await _client.CreateTenantAsync(HospitalB);
        foreach ((string tenant, string key, string file) in new[] { (HospitalA, a, "breast_cancer_hospital_a.csv"), (HospitalB, b, "breast_cancer_hospital_b.csv") })
        {
            await _client.UploadAsync(key, tenant, Dataset, file, TestData.Sample(file));
            await _client.WaitForRunsAsync(key, tenant, Dataset);
        }

        await _client.UploadAsync(a, HospitalA, Dataset, "header.csv", Encoding.UTF8.GetBytes("a,b,c\n"));
        JsonNode dataset = await _client.WaitForRunsAsync(a, HospitalA, Dataset, runs: 2);
        string trainRun = (await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{HospitalA}/models", a,
            new StartTrainingBody(Model, [Dataset], ApiExamples.Label, null, null, 3, ["lbfgs-lr-l2-1", "sdca-lr"]), HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        await _client.WaitForRunAsync(a, trainRun);
        JsonNode model = await _client.JsonAsync(HttpMethod.Get, $"/api/tenants/{HospitalA}/models/{Model}", a, null);

        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", a, new CollaborationProposal(Collaboration, "Console oncology", [HospitalA, HospitalB],
            new CollaborationTaskBody(ApiExamples.Label, null, null), null, null, null), HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{Collaboration}/accept", b, new { });
        foreach ((string tenant, string key) in new[] { (HospitalA, a), (HospitalB, b) })
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/datasets/{Dataset}/grants", key,
                new GrantRequest(null, Collaboration, ["train", "evaluate"], null, null), HttpStatusCode.Created);
        }

        await _client.WaitForRunAsync(a, (await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{Collaboration}/models", a,
            new StartCollaborationTrainingBody(Model, ["lbfgs-lr-l2-1"], 3), HttpStatusCode.Accepted))["runId"]!.GetValue<string>(), TimeSpan.FromMinutes(3));
        string contribution = (await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{Collaboration}/models/{Model}/contributions", a,
            new ContributionBody("shapley", 7, null, null, null), HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        await _client.WaitForRunAsync(a, contribution, TimeSpan.FromMinutes(3));
        JsonNode report = await _client.JsonAsync(HttpMethod.Get, $"/api/collaborations/{Collaboration}/models/{Model}/contributions/{contribution}", a, null);

        await _client.JsonAsync(HttpMethod.Post, "/api/collaborations", a, new CollaborationProposal(Federation, "Console federation", [HospitalA, HospitalB],
            new CollaborationTaskBody(ApiExamples.Label, "binary", null), "federated", null, null), HttpStatusCode.Created);
        await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{Federation}/accept", b, new { });
        foreach ((string tenant, string key) in new[] { (HospitalA, a), (HospitalB, b) })
        {
            await _client.JsonAsync(HttpMethod.Post, $"/api/tenants/{tenant}/datasets/{Dataset}/grants", key,
                new GrantRequest(null, Federation, ["train", "evaluate"], null, null), HttpStatusCode.Created);
        }

        string federatedRun = (await _client.JsonAsync(HttpMethod.Post, $"/api/collaborations/{Federation}/models", a,
            new StartCollaborationTrainingBody(Model, null, null, Rounds: Rounds, LocalEpochs: 1), HttpStatusCode.Accepted))["runId"]!.GetValue<string>();
        await _client.WaitForRunAsync(a, federatedRun, TimeSpan.FromMinutes(3));

        JsonNode quality = dataset["selected"]!["quality"]!;
        JsonNode production = model["versions"]!.AsArray().Single(v => v!["stage"]!.GetValue<string>() == "production")!;
        string[] sample = Encoding.UTF8.GetString(TestData.Sample("breast_cancer_hospital_a.csv")).Split('\n', 3);
        string[] header = sample[0].Trim().Split(','), values = sample[1].Trim().Split(',');
        return new World(a, quality["rowsIn"]!.GetValue<long>(), quality["rowsOut"]!.GetValue<long>(), production["configuration"]!["id"]!.GetValue<string>(), trainRun,
            header.Zip(values).ToDictionary(p => p.First, p => p.Second), Model,
            report["members"]!.AsArray().Sum(m => m!["share"]!.GetValue<double>()), federatedRun);
    }

    private static ChromeDriver StartBrowser()
    {
        string? chromium = new[] { Environment.GetEnvironmentVariable("LEPTON_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        string? driver = new[] { Environment.GetEnvironmentVariable("LEPTON_CHROMEDRIVER"), "/usr/bin/chromedriver" }.FirstOrDefault(File.Exists);
        Skip.If(chromium is null || driver is null,
            "Chromium and ChromeDriver are not installed (Debian: apt-get install chromium chromium-driver; `./lepton test` installs them when it may).");
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        return new ChromeDriver(service, options, TimeSpan.FromMinutes(1));
    }

    private static void SignIn(IWebDriver browser, string tenant, string key)
    {
        IWebElement tenantField = Wait(browser).Until(d => d.FindElement(By.Id("tenant")));
        tenantField.SendKeys(tenant);
        browser.FindElement(By.Id("api-key")).SendKeys(key);
        browser.FindElement(By.Id("sign-in-submit")).Click();
    }

    private static void Go(IWebDriver browser, string hash) =>
        ((IJavaScriptExecutor)browser).ExecuteScript("location.hash = arguments[0];", hash);

    private static WebDriverWait Wait(IWebDriver browser)
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        // A view re-renders as its data arrives: an element found a moment ago may be gone.
        wait.IgnoreExceptionTypes(typeof(NotFoundException), typeof(StaleElementReferenceException));
        return wait;
    }

    /// <summary>Desktop and phone screenshots of a view; at phone width nothing may overflow the page sideways.</summary>
    private static void Capture(ChromeDriver browser, string view)
    {
        Screenshot(browser, view + "-1280");
        browser.Manage().Window.Size = new System.Drawing.Size(390, 844);
        Thread.Sleep(300);
        long overflow = (long)((IJavaScriptExecutor)browser).ExecuteScript("return document.documentElement.scrollWidth - window.innerWidth;")!;
        Screenshot(browser, view + "-phone");
        browser.Manage().Window.Size = new System.Drawing.Size(1280, 900);
        Assert.True(overflow <= 0, $"The {view} view is {overflow}px wider than a phone screen.");
    }

    /// <summary>The whole page, not only the window: the window grows to the page's height for the picture.</summary>
    private static void Screenshot(ChromeDriver browser, string name)
    {
        Directory.CreateDirectory(Screenshots);
        System.Drawing.Size window = browser.Manage().Window.Size;
        long height = (long)((IJavaScriptExecutor)browser).ExecuteScript("return document.documentElement.scrollHeight;")!;
        browser.Manage().Window.Size = new System.Drawing.Size(window.Width, (int)Math.Clamp(height + 140, window.Height, 8000));
        Thread.Sleep(200);
        browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, name + ".png"));
        browser.Manage().Window.Size = window;
    }

    /// <summary>Script errors and failed requests the browser logged, except the expected refusals the test provoked.</summary>
    private static List<string> SevereBrowserErrors(IWebDriver browser, string? allow = null) =>
        browser.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == LogLevel.Severe && (allow is null || !e.Message.Contains(allow, StringComparison.Ordinal)))
            .Select(e => e.Message).ToList();
}
