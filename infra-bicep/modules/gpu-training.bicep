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
param trainingPoisonQueueName string
param platformQueueEndpoint string

@allowed(['T4', 'A100'])
@description('Serverless GPU: T4 (NC8as T4) for most models, A100 (NC24 A100) for large ones.')
param gpuType string = 'T4'

@description('Trainer image; until the trainer is pushed to the registry, a public placeholder that exits at once.')
param trainerImage string = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

// Built-in role ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor (receive, renew, delete: one queue)
var queueMessageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a' // Storage Queue Data Message Sender
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
          // The worker reads its jobs with this identity; the data and the artifacts it reaches only through each job's
          // single-blob SAS URLs, and it reports through the completion function (its key travels in the job).
          env: [
            { name: 'Lepton__Trainer__QueueEndpoint', value: platformQueueEndpoint }
            { name: 'Lepton__Trainer__QueueName', value: trainingQueueName }
            { name: 'Lepton__Trainer__PoisonQueueName', value: trainingPoisonQueueName }
            { name: 'Lepton__Trainer__ExitWhenIdle', value: 'true' }
            { name: 'Lepton__Trainer__VisibilityTimeout', value: '00:05:00' }
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

// The job receives, renews and deletes messages of the training queue only, and may only send to the poison queue.
resource jobQueueProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trainingQueue.id, trainingJob.id, queueDataContributor)
  scope: trainingQueue
  properties: {
    principalId: trainingJob.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueDataContributor)
  }
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${platformStorageName}/default/${trainingPoisonQueueName}'
}

resource jobPoisonSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(poisonQueue.id, trainingJob.id, queueMessageSender)
  scope: poisonQueue
  properties: {
    principalId: trainingJob.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueMessageSender)
  }
}

output registryLoginServer string = registry.properties.loginServer
output registryName string = registry.name
output jobName string = trainingJob.name
output jobPrincipalId string = trainingJob.identity.principalId
