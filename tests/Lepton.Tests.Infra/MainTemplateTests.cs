using System.Text.Json;

namespace Lepton.Tests.Infra;

public sealed class MainTemplateTests : IDisposable
{
    private const string StorageAccount = "Microsoft.Storage/storageAccounts";
    private const string RoleAssignment = "Microsoft.Authorization/roleAssignments";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["LEPTON_ADMIN_KEY"] = "0123456789abcdef0123456789abcdef",
        ["LEPTON_AUDIT_SIGNING_KEY"] = "-----BEGIN PRIVATE KEY-----\n" + new string('A', 184) + "\n-----END PRIVATE KEY-----",
        ["LEPTON_EVENT_SUBSCRIPTIONS"] = "true",
        ["AZURE_ENV_NAME"] = "ci",
        ["AZURE_LOCATION"] = "swedencentral",
    };

    // Compiled once for the class: each bicep run takes seconds.
    private static readonly Lazy<JsonDocument> Template = new(BicepCli.BuildTemplate);
    private static readonly Lazy<JsonElement> Defaults = new(() => BicepCli.BuildParameters("main.bicepparam", Environment));

    private readonly List<string> _tempFiles = [];

    private static IReadOnlyList<ArmResource> Resources(JsonElement parameters) => ArmTemplate.Resources(Template.Value, parameters);

    private static JsonElement DefaultParameters() => Defaults.Value;

    private JsonElement ParametersWithTenants(params string[] tenants)
    {
        // bicepparam files must reference the template by a relative path, so the variant sits next to main.bicep.
        string path = Path.Combine(BicepCli.InfraFolder, $".test-{Guid.NewGuid():N}.bicepparam");
        string list = string.Join("\n", tenants.Select(t => $"  {{ id: '{t}' }}"));
        File.WriteAllText(path, File.ReadAllText(Path.Combine(BicepCli.InfraFolder, "main.bicepparam"))
            .Split("param tenants")[0] + $"param tenants = [\n{list}\n]\n");
        _tempFiles.Add(path);
        return BicepCli.BuildParameters(path, Environment);
    }

    [Fact]
    public void BuildAndLint_MainTemplate_NoErrorsNoWarnings()
    {
        (int buildExit, _, string buildErrors) = BicepCli.Run(null, "build", "main.bicep", "--stdout");
        (int lintExit, string lintOut, string lintErrors) = BicepCli.Run(null, "lint", "main.bicep");
        (int paramsExit, _, string paramsErrors) = BicepCli.Run(Environment, "build-params", "main.bicepparam", "--stdout");

        Assert.Equal(0, buildExit);
        Assert.Equal("", buildErrors.Trim());
        Assert.Equal(0, lintExit);
        Assert.Equal("", (lintOut + lintErrors).Trim());
        Assert.Equal(0, paramsExit);
        Assert.Equal("", paramsErrors.Trim());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TenantsParameter_NTenants_OneStorageAccountAndSubscriptionEach(int tenantCount)
    {
        // Arrange
        JsonElement parameters = tenantCount == 2 ? DefaultParameters() : ParametersWithTenants(["hospital-a", "hospital-b", "bank-c"]);

        // Act
        IReadOnlyList<ArmResource> resources = Resources(parameters);

        // Assert: the platform account plus one per tenant, and each tenant account wired to the webhook
        Assert.Equal(1, resources.Where(r => r.Type == StorageAccount && r.Module == "platform-storage").Sum(r => r.Instances));
        Assert.Equal(tenantCount, resources.Where(r => r.Type == StorageAccount && r.Module.StartsWith("[format('tenant-storage-", StringComparison.Ordinal)).Sum(r => r.Instances));
        Assert.Equal(tenantCount, resources.Where(r => r.Type == "Microsoft.EventGrid/systemTopics").Sum(r => r.Instances));
        Assert.Equal(tenantCount, resources.Where(r => r.Type == "Microsoft.EventGrid/systemTopics/eventSubscriptions").Sum(r => r.Instances));
        Assert.Equal(tenantCount, resources.Where(r => r.Type == RoleAssignment && r.RoleIds().Contains(BlobDataContributor)
            && r.Json.GetProperty("properties").GetProperty("principalId").GetString() == "[parameters('functionPrincipalId')]"
            && r.Json.GetProperty("scope").GetString() == "[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]").Sum(r => r.Instances));
    }

    [Fact]
    public void StorageAccounts_Every_SharedKeyOffTls12NoPublicBlobs()
    {
        IReadOnlyList<ArmResource> accounts = Resources(DefaultParameters()).Where(r => r.Type == StorageAccount).ToList();

        Assert.Equal(2, accounts.Count);
        Assert.All(accounts, a =>
        {
            JsonElement properties = a.Json.GetProperty("properties");
            Assert.False(properties.GetProperty("allowSharedKeyAccess").GetBoolean());
            Assert.False(properties.GetProperty("allowBlobPublicAccess").GetBoolean());
            Assert.Equal("TLS1_2", properties.GetProperty("minimumTlsVersion").GetString());
            Assert.True(properties.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
        });
    }

    [Fact]
    public void TenantAccounts_BlobService_SoftDeleteAndVersioning()
    {
        ArmResource blobService = Resources(DefaultParameters())
            .Single(r => r.Type == "Microsoft.Storage/storageAccounts/blobServices" && r.Module.StartsWith("[format('tenant-storage-", StringComparison.Ordinal));
        JsonElement properties = blobService.Json.GetProperty("properties");

        Assert.True(properties.GetProperty("isVersioningEnabled").GetBoolean());
        Assert.True(properties.GetProperty("deleteRetentionPolicy").GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public void TenantAccounts_Encryption_OwnCustomerManagedKeyWithInfrastructureEncryption()
    {
        const string CryptoServiceEncryptionUser = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
        IReadOnlyList<ArmResource> resources = Resources(DefaultParameters());
        IReadOnlyList<ArmResource> tenantModules = resources.Where(r => r.Module.StartsWith("[format('tenant-storage-", StringComparison.Ordinal)).ToList();
        ArmResource account = tenantModules.Single(r => r.Type == StorageAccount);
        JsonElement encryption = account.Json.GetProperty("properties").GetProperty("encryption");

        // The account's data is encrypted under the tenant's key in Key Vault, twice over (service and infrastructure layers)
        Assert.Equal("Microsoft.Keyvault", encryption.GetProperty("keySource").GetString());
        Assert.True(encryption.GetProperty("requireInfrastructureEncryption").GetBoolean());
        Assert.Contains("userAssignedIdentities", encryption.GetProperty("identity").GetProperty("userAssignedIdentity").GetString());
        Assert.False(encryption.GetProperty("keyvaultproperties").TryGetProperty("keyversion", out _), "a pinned key version would stop rotation");
        Assert.Equal("UserAssigned", account.Json.GetProperty("identity").GetProperty("type").GetString());

        // One RSA key per tenant that rotates, and an identity that may use only that key
        ArmResource key = tenantModules.Single(r => r.Type == "Microsoft.KeyVault/vaults/keys");
        Assert.Contains("tenant-{0}", key.Json.GetProperty("name").GetString());
        Assert.Equal("RSA", key.Json.GetProperty("properties").GetProperty("kty").GetString());
        Assert.Contains(key.Json.GetProperty("properties").GetProperty("rotationPolicy").GetProperty("lifetimeActions").EnumerateArray(),
            a => a.GetProperty("action").GetProperty("type").GetString() == "rotate");
        ArmResource keyUser = tenantModules.Single(r => r.Type == RoleAssignment && r.RoleIds().Contains(CryptoServiceEncryptionUser));
        Assert.StartsWith("[resourceId('Microsoft.KeyVault/vaults/keys'", keyUser.Json.GetProperty("scope").GetString());
    }

    [Fact]
    public void EventSubscription_PerTenant_TargetsWebhookFilteredToIngestAndBatchInputWithRetryAndDeadLetter()
    {
        ArmResource subscription = Resources(DefaultParameters()).Single(r => r.Type == "Microsoft.EventGrid/systemTopics/eventSubscriptions");
        JsonElement properties = subscription.Json.GetProperty("properties");

        Assert.Equal("WebHook", properties.GetProperty("destination").GetProperty("endpointType").GetString());
        Assert.Contains("/api/events/blob-created?code=", properties.GetProperty("destination").GetProperty("properties").GetProperty("endpointUrl").GetString());
        JsonElement prefixes = properties.GetProperty("filter").GetProperty("advancedFilters")[0];
        Assert.Equal(("StringBeginsWith", "subject"), (prefixes.GetProperty("operatorType").GetString(), prefixes.GetProperty("key").GetString()));
        Assert.Equal(["/blobServices/default/containers/ingest/", "/blobServices/default/containers/predictions/blobs/in/"],
            prefixes.GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(["Microsoft.Storage.BlobCreated"], properties.GetProperty("filter").GetProperty("includedEventTypes").EnumerateArray().Select(e => e.GetString()));
        Assert.True(properties.GetProperty("retryPolicy").GetProperty("maxDeliveryAttempts").GetInt32() > 1);
        Assert.Equal("StorageBlob", properties.GetProperty("deadLetterWithResourceIdentity").GetProperty("deadLetterDestination").GetProperty("endpointType").GetString());
        Assert.Equal("[parameters('enableEventSubscription')]", subscription.Condition);
    }

    [Fact]
    public void GpuTraining_Job_ServerlessGpuProfileAndQueueScaledWithManagedIdentity()
    {
        IReadOnlyList<ArmResource> resources = Resources(DefaultParameters());
        ArmResource environment = resources.Single(r => r.Type == "Microsoft.App/managedEnvironments");
        ArmResource job = resources.Single(r => r.Type == "Microsoft.App/jobs");
        string gpuModule = resources.Single(r => r.Type == "Microsoft.Resources/deployments" && r.Json.GetProperty("name").GetString() == "gpu-training").Json.ToString();

        Assert.Contains("Consumption-GPU-NC8as-T4", gpuModule);
        Assert.Contains("Consumption-GPU-NC24-A100", gpuModule);
        Assert.Contains(environment.Json.GetProperty("properties").GetProperty("workloadProfiles").EnumerateArray(),
            p => p.GetProperty("workloadProfileType").GetString() == "[variables('gpu').type]");
        JsonElement configuration = job.Json.GetProperty("properties").GetProperty("configuration");
        Assert.Equal("Event", configuration.GetProperty("triggerType").GetString());
        JsonElement rule = configuration.GetProperty("eventTriggerConfig").GetProperty("scale").GetProperty("rules")[0];
        Assert.Equal("azure-queue", rule.GetProperty("type").GetString());
        Assert.Equal("system", rule.GetProperty("identity").GetString());
        Assert.Equal(0, configuration.GetProperty("eventTriggerConfig").GetProperty("scale").GetProperty("minExecutions").GetInt32());
        Assert.Equal("system", configuration.GetProperty("registries")[0].GetProperty("identity").GetString());
        Assert.Equal("[variables('gpu').name]", job.Json.GetProperty("properties").GetProperty("workloadProfileName").GetString());
        string env = job.Json.GetProperty("properties").GetProperty("template").GetProperty("containers")[0].GetProperty("env").ToString();
        Assert.Contains("Lepton__Trainer__QueueEndpoint", env);
        Assert.Contains("Lepton__Trainer__PoisonQueueName", env);
        // The worker reaches tenant data only through per-job SAS URLs: no role of its own on any tenant account.
        Assert.DoesNotContain(resources.Where(r => r.Type == RoleAssignment && r.Module.StartsWith("[format('tenant-storage-", StringComparison.Ordinal)),
            r => r.Json.GetProperty("properties").GetProperty("principalId").GetString()!.Contains("training", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void RoleAssignments_Every_ScopedToOneResourceWithNarrowRole()
    {
        string[] broadRoles =
        [
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
            "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
            "17d1049b-9a84-46fb-8f53-869881c3d3ab", // Storage Account Contributor
        ];

        IReadOnlyList<ArmResource> assignments = Resources(DefaultParameters()).Where(r => r.Type == RoleAssignment).ToList();

        Assert.NotEmpty(assignments);
        Assert.All(assignments, a =>
        {
            Assert.True(a.Json.TryGetProperty("scope", out JsonElement scope), $"role assignment without a resource scope in {a.Module}");
            Assert.StartsWith("[resourceId(", scope.GetString());
            Assert.StartsWith("[guid(", a.Json.GetProperty("name").GetString());
            Assert.NotEmpty(a.RoleIds());
            Assert.DoesNotContain(broadRoles, a.RoleIds().Contains);
        });
    }

    [Fact]
    public void FunctionApp_Settings_IdentityBasedWithoutKeys()
    {
        ArmResource site = Resources(DefaultParameters()).Single(r => r.Type == "Microsoft.Web/sites");
        string settings = site.Json.GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").ToString();

        Assert.Equal("SystemAssigned", site.Json.GetProperty("identity").GetProperty("type").GetString());
        Assert.Contains("AzureWebJobsStorage__accountName", settings);
        Assert.DoesNotContain("AccountKey", settings);
        Assert.DoesNotContain("listKeys", settings);
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", settings);
        Assert.Contains("Lepton__Audit__SigningKey", settings);
        Assert.Equal("dotnet-isolated", site.Json.GetProperty("properties").GetProperty("functionAppConfig").GetProperty("runtime").GetProperty("name").GetString());
    }

    [Fact]
    public void Outputs_AzdConventions_UpperSnakeCase()
    {
        JsonElement outputs = Template.Value.RootElement.GetProperty("outputs");

        Assert.All(outputs.EnumerateObject(), o => Assert.Matches("^[A-Z][A-Z0-9_]*$", o.Name));
        Assert.Contains(outputs.EnumerateObject(), o => o.Name == "AZURE_LOCATION");
    }

    public void Dispose()
    {
        foreach (string file in _tempFiles)
        {
            File.Delete(file);
        }
    }
}
