// The function app on Flex Consumption: .NET 10 isolated, system-assigned identity, identity-based connections only
// (no account keys in app settings), the admin key as a Key Vault reference.
param location string
param tags object
param planName string
param name string
param platformStorageName string
param platformBlobEndpoint string
param platformTableEndpoint string
param applicationInsightsConnectionString string
param adminKeySecretUri string
param auditSigningKeySecretUri string
param trainerCallbackKeySecretUri string
@secure()
param trainerCallbackKey string
param platformQueueEndpoint string
param tenantStorageAccountNames array
param maximumInstanceCount int = 100
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Identity-based runtime storage (durable task hub included): account name only, no key.
        { name: 'AzureWebJobsStorage__accountName', value: platformStorageName }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'Lepton__AdminKey', value: '@Microsoft.KeyVault(SecretUri=${adminKeySecretUri})' }
        { name: 'Lepton__Audit__SigningKey', value: '@Microsoft.KeyVault(SecretUri=${auditSigningKeySecretUri})' }
        { name: 'Lepton__Storage__PlatformQueueEndpoint', value: platformQueueEndpoint }
        // The trainer's completion callback: this app's own address (WEBSITE_HOSTNAME) and a host key made for it below.
        { name: 'Lepton__HeavyTraining__CallbackKey', value: '@Microsoft.KeyVault(SecretUri=${trainerCallbackKeySecretUri})' }
        { name: 'Lepton__Storage__PlatformConnection', value: platformTableEndpoint }
        { name: 'Lepton__Storage__PlatformBlobEndpoint', value: platformBlobEndpoint }
        { name: 'Lepton__Storage__TenantBlobEndpointTemplate', value: 'https://{account}.blob.${environment().suffixes.storage}' }
        { name: 'Lepton__Storage__TenantAccounts', value: join(tenantStorageAccountNames, ';') }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${platformBlobEndpoint}deployments'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// A host key for the GPU trainer's completion callback, with the value kept in Key Vault. functionKeys is a proxy
// resource of the Functions host that Bicep publishes no type for; it deploys all the same.
#disable-next-line BCP081
resource trainerKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = {
  name: '${app.name}/default/trainer'
  properties: {
    name: 'trainer'
    value: trainerCallbackKey
  }
}

output name string = app.name
output id string = app.id
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName
