using System.Text;
using Lepton.Functions.Http;
using Lepton.Prediction;
using RowPrediction = Lepton.Prediction.Prediction;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lepton.Tests.Unit.Functions;

public class PredictionResultTests
{
    public static TheoryData<PredictionResponse> Responses => new()
    {
        new PredictionResponse("bc-lr", 3, [new RowPrediction("true", 3.2154f, new Dictionary<string, float> { ["false"] = 0.0387f, ["true"] = 0.9613f })]),
        // Regression: no label, no probabilities (written as nulls); scores at the edges of float formatting.
        new PredictionResponse("price", 1, [new RowPrediction(null, 1e-8f, null), new RowPrediction(null, -3.4e38f, null), new RowPrediction(null, 123456.78f, null)]),
        // Class names are the partner's own text: non-ASCII and HTML-sensitive characters are escaped as everywhere else.
        new PredictionResponse("café-modèle", 12, [new RowPrediction("<b>&'\"é", 0.5f, new Dictionary<string, float> { ["<b>&'\"é"] = 0.5f, ["日本"] = 0.25f, ["x\ny"] = 0.25f })]),
        new PredictionResponse("empty", 1, []),
        // The most rows a request may have, more than any one buffer of the response holds.
        new PredictionResponse("many", 2, Enumerable.Range(0, 1000).Select(i => new RowPrediction($"class {i % 7}", i / 7f,
            Enumerable.Range(0, 7).ToDictionary(k => $"class {k}", k => (k + i) % 7 / 21f))).ToList()),
    };

    [Theory]
    [MemberData(nameof(Responses))]
    public async Task ExecuteResultAsync_AnyResponse_SameStatusTypeAndBytesAsMvc(PredictionResponse response)
    {
        (int mvcStatus, string? mvcType, string mvcBody) = await ExecuteAsync(new OkObjectResult(response));

        (int status, string? type, string body) = await ExecuteAsync(new PredictionResult(response));

        Assert.Equal((mvcStatus, mvcType), (status, type));
        Assert.Equal(mvcBody, body);
    }

    [Fact]
    public async Task ExecuteResultAsync_MvcWithoutJsonFormatter_AnswersAsMvcDoes()
    {
        var response = new PredictionResponse("bc-lr", 3, [new RowPrediction("true", 3.2154f, null)]);
        static void NoJson(MvcOptions o) => o.OutputFormatters.RemoveType<Microsoft.AspNetCore.Mvc.Formatters.SystemTextJsonOutputFormatter>();
        (int mvcStatus, string? mvcType, string mvcBody) = await ExecuteAsync(new OkObjectResult(response), NoJson);

        (int status, string? type, string body) = await ExecuteAsync(new PredictionResult(response), NoJson);

        Assert.Equal((mvcStatus, mvcType, mvcBody), (status, type, body));
        Assert.NotEqual(200, status);
    }

    private static async Task<(int Status, string? ContentType, string Body)> ExecuteAsync(IActionResult result, Action<MvcOptions>? configure = null)
    {
        // MVC's formatters as the Functions worker and the dev host register them (AddMvcCore, default JSON options).
        using ServiceProvider services = new ServiceCollection().AddLogging().AddMvcCore(configure ?? (_ => { })).Services.BuildServiceProvider();
        using var body = new MemoryStream();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = body;

        await result.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
        await http.Response.BodyWriter.FlushAsync();

        return (http.Response.StatusCode, http.Response.ContentType, Encoding.UTF8.GetString(body.ToArray()));
    }
}
