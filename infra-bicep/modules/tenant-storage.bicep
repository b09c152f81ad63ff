// One tenant's own storage account, its containers, and the Event Grid wiring that turns uploads into ingest runs.
// Role assignments here are scoped to this account (or one container), never wider.
param location string
param tags object
param tenantId string
param name string
param functionAppName string
param functionPrincipalId string
param platformStorageName string
param deadLetterContainerName string
param enableEventSubscription bool

@description('The Key Vault that holds one encryption key per tenant (customer-managed keys).')
param keyVaultName string

// Built-in role ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
var keyVaultCryptoServiceEncryptionUser = 'e147488a-f6f5-4113-8e2d-b22465e65bf6' // Key Vault Crypto Service Encryption User

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// The tenant's own key: the account's data is encrypted under it (customer-managed key). It rotates yearly; the account
// follows the newest version because it names no version. Disabling the key or removing the grant below makes the
// account's data unreadable to everyone, the platform included (see docs/encryption.md).
resource encryptionKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'tenant-${tenantId}'
  tags: union(tags, { 'lepton-tenant': tenantId })
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
    rotationPolicy: {
      attributes: { expiryTime: 'P2Y' }
      lifetimeActions: [
        { trigger: { timeAfterCreate: 'P1Y' }, action: { type: 'rotate' } }
        { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'notify' } }
      ]
    }
  }
}

// The account reaches its key through an identity of its own that may only wrap and unwrap with this one key.
resource encryptionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}-cmk'
  location: location
  tags: union(tags, { 'lepton-tenant': tenantId })
}

resource encryptionKeyUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(encryptionKey.id, encryptionIdentity.id, keyVaultCryptoServiceEncryptionUser)
  scope: encryptionKey
  properties: {
    principalId: encryptionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoServiceEncryptionUser)
  }
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: union(tags, { 'lepton-tenant': tenantId })
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${encryptionIdentity.id}': {} }
  }
  dependsOn: [encryptionKeyUser]
  properties: {
    encryption: {
      keySource: 'Microsoft.Keyvault'
      requireInfrastructureEncryption: true
      identity: { userAssignedIdentity: encryptionIdentity.id }
      keyvaultproperties: {
        keyname: encryptionKey.name
        keyvaulturi: vault.properties.vaultUri
      }
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    accessTier: 'Hot'
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: 14 }
    containerDeleteRetentionPolicy: { enabled: true, days: 14 }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in ['ingest', 'curated', 'rejected', 'predictions']: {
  parent: blobs
  name: container
  properties: { publicAccess: 'None' }
}]

// The function app reads uploads, writes curated/rejected/predictions and signs user-delegation upload URLs.
resource functionBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, functionPrincipalId, storageBlobDataContributor)
  scope: account
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

// The GPU trainer has no role here: it reads a job's curated versions through read-only SAS URLs of those blobs alone,
// issued per job by the function app.
resource topic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: '${name}-events'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource platformStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: platformStorageName
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${platformStorageName}/default/${deadLetterContainerName}'
}

// The topic's identity may write dead letters into that one container of the platform account.
resource topicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topic.id, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// One webhook serves every tenant: the function maps the event's account to its tenant. The subscription can only be
// created once the function code answers Event Grid's validation handshake (see docs/deploy.md).
resource ingestSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = if (enableEventSubscription) {
  parent: topic
  name: 'ingest-blob-created'
  dependsOn: [topicDeadLetterWriter]
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/api/events/blob-created?code=${listKeys('${functionApp.id}/host/default', '2024-04-01').functionKeys.default}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    // Data drops (ingest/) and files to score in batch (predictions/in/).
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      advancedFilters: [
        {
          operatorType: 'StringBeginsWith'
          key: 'subject'
          values: ['/blobServices/default/containers/ingest/', '/blobServices/default/containers/predictions/blobs/in/']
        }
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: platformStorage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output name string = account.name
output id string = account.id
