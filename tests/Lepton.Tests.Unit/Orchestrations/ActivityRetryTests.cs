using Lepton.Orchestrations;
using Microsoft.DurableTask;

namespace Lepton.Tests.Unit.Orchestrations;

public class ActivityRetryTests
{
    [Theory]
    [InlineData("System.IO.IOException", true)]
    [InlineData("Azure.RequestFailedException", true)]
    [InlineData("System.InvalidOperationException", true)]
    [InlineData("Lepton.Errors.LeptonException", false)]
    [InlineData("Lepton.Security.DataUseDeniedException", false)]
    public void IsTransient_ByErrorType_RetriesOnlyWhatARetryCouldChange(string errorType, bool retried)
    {
        var failure = new TaskFailureDetails(errorType, "why", null, null, null);

        bool transient = ActivityRetry.IsTransient(failure);

        Assert.Equal(retried, transient);
    }
}
