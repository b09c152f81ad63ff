// Key Vault in RBAC mode with purge protection; holds the platform admin key the function app reads by reference.
param location string
param tags object
param name string

@secure()
@description('The platform admin key (Lepton:AdminKey). It only manages tenants.')
param adminKey string

@secure()
@description('The function key the GPU trainer calls back with.')
param trainerCallbackKey string

@secure()
@description('The private key (PEM) that signs the audit logs\' tree heads (Lepton:Audit:SigningKey).')
param auditSigningKey string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource adminKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'lepton-admin-key'
  properties: {
    value: adminKey
    contentType: 'text/plain'
  }
}

resource auditSigningKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'lepton-audit-signing-key'
  properties: {
    value: auditSigningKey
    contentType: 'application/x-pem-file'
  }
}

resource trainerCallbackKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'lepton-trainer-callback-key'
  properties: {
    value: trainerCallbackKey
    contentType: 'text/plain'
  }
}

output name string = vault.name
output id string = vault.id
output adminKeySecretUri string = adminKeySecret.properties.secretUri
output trainerCallbackKeySecretUri string = trainerCallbackKeySecret.properties.secretUri
output auditSigningKeySecretUri string = auditSigningKeySecret.properties.secretUri
