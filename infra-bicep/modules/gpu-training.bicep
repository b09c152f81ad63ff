// Heavy training on serverless GPUs: a Container Apps environment with a GPU workload profile and an event-driven job
// that KEDA scales from zero on the platform's training queue. Pulls its image with its managed identity. Idle cost: none.
param location string
param tags object
param environmentName string
param jobName string
param registryName string
param logAnalyticsId string
param platformStorageName string
param trainingQueueName string

@allowed(['T4', 'A100'])
@description('Serverless GPU: T4 (NC8as T4) for most models, A100 (NC24 A100) for large ones.')
param gpuType string = 'T4'

@description('Trainer image; until the trainer is pushed to the registry, a public placeholder that exits at once.')
param trainerImage string = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

// Built-in role ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
var queueMessageProcessor = '8a0f0c08-91a1-4084-bc3d-661d67233fed' // Storage Queue Data Message Processor
var gpu = gpuType == 'A100'
  ? { name: 'gpu-a100', type: 'Consumption-GPU-NC24-A100', cpu: '24', memory: '220Gi' }
  : { name: 'gpu-t4', type: 'Consumption-GPU-NC8as-T4', cpu: '8', memory: '56Gi' }

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
  }
}

resource managedEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
      { name: gpu.name, workloadProfileType: gpu.type }
    ]
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: managedEnvironment
  properties: {
    workspaceId: logAnalyticsId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

resource trainingJob 'Microsoft.App/jobs@2025-01-01' = {
  name: jobName
  location: location
  tags: union(tags, { 'azd-service-name': 'trainer' })
  identity: { type: 'SystemAssigned' }
  properties: {
    environmentId: managedEnvironment.id
    workloadProfileName: gpu.name
    configuration: {
      triggerType: 'Event'
      replicaTimeout: 14400
      replicaRetryLimit: 1
      eventTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
        scale: {
          minExecutions: 0
          maxExecutions: 4
          pollingInterval: 30
          rules: [
            {
              name: 'training-queue'
              type: 'azure-queue'
              metadata: {
                accountName: platformStorageName
                queueName: trainingQueueName
                queueLength: '1'
              }
              identity: 'system'
            }
          ]
        }
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: 'system'
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'trainer'
          image: trainerImage
          resources: {
            cpu: json(gpu.cpu)
            memory: gpu.memory
          }
          env: [
            { name: 'Lepton__Training__QueueAccount', value: platformStorageName }
            { name: 'Lepton__Training__Queue', value: trainingQueueName }
          ]
        }
      ]
    }
  }
}

resource jobAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, trainingJob.id, acrPull)
  scope: registry
  properties: {
    principalId: trainingJob.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

resource trainingQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${platformStorageName}/default/${trainingQueueName}'
}

// The job reads and deletes messages of the training queue only.
resource jobQueueProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trainingQueue.id, trainingJob.id, queueMessageProcessor)
  scope: trainingQueue
  properties: {
    principalId: trainingJob.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueMessageProcessor)
  }
}

output registryLoginServer string = registry.properties.loginServer
output registryName string = registry.name
output jobName string = trainingJob.name
output jobPrincipalId string = trainingJob.identity.principalId
