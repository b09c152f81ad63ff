using Lepton.Errors;
using Lepton.Functions.Http;
using Microsoft.AspNetCore.Mvc;

namespace Lepton.Tests.Unit.Functions;

public class ProblemMappingTests
{
    private static ProblemDetails Problem(Exception e) => Assert.IsType<ProblemDetails>(Assert.IsAssignableFrom<ObjectResult>(ProblemMapping.ToResult(e)).Value);

    [Theory]
    [InlineData(ErrorKind.BadRequest, 400)]
    [InlineData(ErrorKind.NotFound, 404)]
    [InlineData(ErrorKind.Gone, 410)]
    [InlineData(ErrorKind.TooManyRequests, 429)]
    public void ToResult_LeptonException_StatusOfItsKindWithItsMessage(ErrorKind kind, int status)
    {
        ProblemDetails problem = Problem(new LeptonException(kind, "Title.", "What went wrong."));

        Assert.Equal((status, "What went wrong."), (problem.Status!.Value, problem.Detail));
    }

    [Fact]
    public void ToResult_Bug_500WithoutInternals()
    {
        ProblemDetails problem = Problem(new InvalidOperationException("secret connection string AccountKey=abc"));

        Assert.Equal(500, problem.Status);
        Assert.DoesNotContain("AccountKey", problem.Detail);
    }

    public static TheoryData<Exception> Outages => new()
    {
        new Azure.RequestFailedException(0, "connection refused"),
        new Azure.RequestFailedException(503, "server busy"),
        new HttpRequestException("connection refused"),
        new AggregateException(new HttpRequestException("try 1"), new HttpRequestException("try 2"), new Azure.RequestFailedException(500, "try 3")),
        // What the SDK throws when storage accepts the connection and never answers: its network timeout, then its retries.
        new TaskCanceledException("exceeded the configured timeout of 0:00:20", new IOException("operation canceled"), new CancellationToken(canceled: true)),
        new AggregateException(new TaskCanceledException("timeout 1"), new TaskCanceledException("timeout 2")),
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public void ToResult_StorageOutage_503WithRetryAfter(Exception outage)
    {
        ProblemDetails problem = Problem(outage);

        Assert.Equal(503, problem.Status);
        Assert.Equal(ProblemMapping.OutageRetryAfterSeconds, problem.Extensions[LeptonException.RetryAfterKey]);
    }

    [Fact]
    public void ToResult_StorageRefusedTheRequest_StaysA500()
    {
        // A 4xx from storage is the platform's own mistake (a bad path, a missing container), not an outage.
        Assert.Equal(500, Problem(new Azure.RequestFailedException(404, "not found")).Status);
    }
}
