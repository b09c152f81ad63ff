using System.Text;
using System.Text.Json;
using Lepton.Errors;
using Lepton.Functions.Http;
using Microsoft.AspNetCore.Http;

namespace Lepton.Tests.Unit.Functions;

public class RequestExtensionsTests
{
    private static HttpRequest Request(string body, bool declareLength = true)
    {
        var context = new DefaultHttpContext();
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = declareLength ? bytes.Length : null;
        return context.Request;
    }

    [Fact]
    public async Task ReadJsonDocumentAsync_ValidBody_ParsesIt()
    {
        using JsonDocument document = await Request("{\"rows\": [{\"x\": 1.5}]}").ReadJsonDocumentAsync(1024);

        Assert.Equal(1.5, document.RootElement.GetProperty("rows")[0].GetProperty("x").GetDouble());
    }

    [Fact]
    public async Task ReadJsonDocumentAsync_EmptyBody_BadRequestAskingForABody()
    {
        LeptonException error = await Assert.ThrowsAsync<LeptonException>(() => Request("").ReadJsonDocumentAsync(1024));

        Assert.Equal((ErrorKind.BadRequest, "The request needs a JSON body."), (error.Kind, error.Message));
    }

    [Fact]
    public async Task ReadJsonDocumentAsync_MalformedBody_BadRequestSayingItIsNotJson()
    {
        LeptonException error = await Assert.ThrowsAsync<LeptonException>(() => Request("{\"rows\": [").ReadJsonDocumentAsync(1024));

        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.StartsWith("The request body is not valid JSON", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadJsonDocumentAsync_BodyOverTheLimit_TooLargeWhetherOrNotItsLengthWasDeclared(bool declareLength)
    {
        string body = "{\"pad\": \"" + new string('x', 5000) + "\"}";

        LeptonException error = await Assert.ThrowsAsync<LeptonException>(() => Request(body, declareLength).ReadJsonDocumentAsync(1024));

        Assert.Equal(ErrorKind.PayloadTooLarge, error.Kind);
    }
}
