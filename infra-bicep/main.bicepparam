using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'lepton-dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param adminKey = readEnvironmentVariable('LEPTON_ADMIN_KEY', '')
param auditSigningKey = readEnvironmentVariable('LEPTON_AUDIT_SIGNING_KEY', '')
param enableEventSubscriptions = bool(readEnvironmentVariable('LEPTON_EVENT_SUBSCRIPTIONS', 'false'))
param gpuType = readEnvironmentVariable('LEPTON_GPU_TYPE', 'T4')

param tenants = [
  { id: 'hospital-a' }
  { id: 'hospital-b' }
]
