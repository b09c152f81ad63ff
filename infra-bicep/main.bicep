// Lepton: platform storage, the function app, Key Vault, one storage account per tenant with Event Grid wiring,
// and serverless GPU training. azd conventions: resourceToken names (each overridable), azd tags, UPPER_SNAKE outputs.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every generated resource name.')
param environmentName string

@minLength(1)
@description('Region for all resources.')
param location string

@description('Partner organizations: one storage account each. id: the Lepton tenant id; storageAccountName: optional override.')
param tenants array

@secure()
@minLength(32)
@description('The platform admin key (Lepton:AdminKey), stored in Key Vault.')
param adminKey string

@secure()
@minLength(100)
@description('The private key (PEM, EC P-256) that signs the audit logs\' tree heads (Lepton:Audit:SigningKey), stored in Key Vault. See docs/deploy.md.')
param auditSigningKey string

@secure()
@description('The function key the GPU trainer calls back with (a host key named "trainer"); generated unless given.')
param trainerCallbackKey string = newGuid()

@description('Create the Event Grid subscriptions. Event Grid validates the webhook on creation, so this needs the function code deployed: false on the first provision, true afterwards (see docs/deploy.md).')
param enableEventSubscriptions bool = false

@allowed(['T4', 'A100'])
param gpuType string = 'T4'

param trainerImage string = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

// Every name can be overridden; empty means "generate from the resource token".
param resourceGroupName string = ''
param platformStorageName string = ''
param functionAppName string = ''
param functionPlanName string = ''
param keyVaultName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param containerAppsEnvironmentName string = ''
param trainingJobName string = ''
param containerRegistryName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, application: 'lepton' }
var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-lepton-${environmentName}' : resourceGroupName
  platformStorage: empty(platformStorageName) ? 'stlep${resourceToken}' : platformStorageName
  functionApp: empty(functionAppName) ? 'func-lepton-${resourceToken}' : functionAppName
  functionPlan: empty(functionPlanName) ? 'plan-lepton-${resourceToken}' : functionPlanName
  keyVault: empty(keyVaultName) ? 'kv-lep-${resourceToken}' : keyVaultName
  logAnalytics: empty(logAnalyticsName) ? 'log-lepton-${resourceToken}' : logAnalyticsName
  applicationInsights: empty(applicationInsightsName) ? 'appi-lepton-${resourceToken}' : applicationInsightsName
  containerAppsEnvironment: empty(containerAppsEnvironmentName) ? 'cae-lepton-${resourceToken}' : containerAppsEnvironmentName
  trainingJob: empty(trainingJobName) ? 'caj-train-${resourceToken}' : trainingJobName
  containerRegistry: empty(containerRegistryName) ? 'crlepton${resourceToken}' : containerRegistryName
}
var tenantStorageNames = [for tenant in tenants: tenant.?storageAccountName ?? 'st${take(replace(tenant.id, '-', ''), 8)}${take(uniqueString(resourceToken, tenant.id), 8)}']

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
  }
}

module platformStorage 'modules/platform-storage.bicep' = {
  scope: rg
  name: 'platform-storage'
  params: {
    location: location
    tags: tags
    name: names.platformStorage
  }
}

module keyVault 'modules/key-vault.bicep' = {
  scope: rg
  name: 'key-vault'
  params: {
    location: location
    tags: tags
    name: names.keyVault
    adminKey: adminKey
    auditSigningKey: auditSigningKey
    trainerCallbackKey: trainerCallbackKey
  }
}

module functionApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app'
  params: {
    location: location
    tags: tags
    planName: names.functionPlan
    name: names.functionApp
    platformStorageName: platformStorage.outputs.name
    platformBlobEndpoint: platformStorage.outputs.blobEndpoint
    platformTableEndpoint: platformStorage.outputs.tableEndpoint
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    adminKeySecretUri: keyVault.outputs.adminKeySecretUri
    auditSigningKeySecretUri: keyVault.outputs.auditSigningKeySecretUri
    trainerCallbackKeySecretUri: keyVault.outputs.trainerCallbackKeySecretUri
    trainerCallbackKey: trainerCallbackKey
    platformQueueEndpoint: platformStorage.outputs.queueEndpoint
    tenantStorageAccountNames: tenantStorageNames
  }
}

module platformRoles 'modules/platform-roles.bicep' = {
  scope: rg
  name: 'platform-roles'
  params: {
    functionPrincipalId: functionApp.outputs.principalId
    platformStorageName: platformStorage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module gpuTraining 'modules/gpu-training.bicep' = {
  scope: rg
  name: 'gpu-training'
  params: {
    location: location
    tags: tags
    environmentName: names.containerAppsEnvironment
    jobName: names.trainingJob
    registryName: names.containerRegistry
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    platformStorageName: platformStorage.outputs.name
    trainingQueueName: platformStorage.outputs.trainingQueueName
    trainingPoisonQueueName: platformStorage.outputs.trainingPoisonQueueName
    platformQueueEndpoint: platformStorage.outputs.queueEndpoint
    gpuType: gpuType
    trainerImage: trainerImage
  }
}

module tenantStorage 'modules/tenant-storage.bicep' = [for (tenant, i) in tenants: {
  scope: rg
  name: 'tenant-storage-${tenant.id}'
  params: {
    location: location
    tags: tags
    tenantId: tenant.id
    name: tenantStorageNames[i]
    functionAppName: functionApp.outputs.name
    functionPrincipalId: functionApp.outputs.principalId
    platformStorageName: platformStorage.outputs.name
    deadLetterContainerName: platformStorage.outputs.deadLetterContainerName
    enableEventSubscription: enableEventSubscriptions
    keyVaultName: keyVault.outputs.name
  }
}]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output LEPTON_API_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output LEPTON_PLATFORM_STORAGE_ACCOUNT string = platformStorage.outputs.name
output LEPTON_KEY_VAULT_NAME string = keyVault.outputs.name
output LEPTON_TENANT_STORAGE_ACCOUNTS array = [for (tenant, i) in tenants: { tenant: tenant.id, storageAccount: tenantStorage[i].outputs.name }]
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = gpuTraining.outputs.registryLoginServer
output LEPTON_TRAINING_JOB_NAME string = gpuTraining.outputs.jobName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
