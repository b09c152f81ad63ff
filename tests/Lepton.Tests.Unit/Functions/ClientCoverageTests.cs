using System.Reflection;
using Lepton.Client;
using Lepton.Functions.Http;

namespace Lepton.Tests.Unit.Functions;

public class ClientCoverageTests
{
    // Called by the platform's own machinery, not by partners: Event Grid's webhook and the GPU trainer's callback;
    // and the web console's static files, which are for browsers, not for the SDK.
    private static readonly string[] Internal = ["ReceiveBlobCreated", "CompleteHeavyTraining", "GetConsole"];

    [Fact]
    public void LeptonClient_EveryApiOperation_HasOneMethodAndNothingElse()
    {
        string[] api = OpenApiDescription.HttpFunctions().Select(f => f.Name).Except(Internal).Order().ToArray();
        string[] client = typeof(LeptonClient).GetMethods().Select(m => m.GetCustomAttribute<ApiOperationAttribute>()?.OperationId)
            .OfType<string>().Order().ToArray();

        Assert.Equal(api, client);
    }
}
