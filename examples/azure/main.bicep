// One faasade function on Azure Functions (Flex Consumption), made with Bicep instead of
// `faasade deploy --provider azure`: what deploy makes for it, under the same names, so that
// Function.fromName(...) finds it. Its app's blob container with the lifecycle rule; the function's
// storage queue and poison queue, deployment container, Flex plan and function app (faasade's app
// settings and tags); the role assignments its managed identity needs on the storage account
// (docs/azure.md, "Roles"). Storage is reached by the app's identity (no connection string). An app
// of several functions is this template deployed once per function (the app's container and rule
// are the same each time). The manifest and the code go up after it (the outputs
// manifestCommand and publishCommand). A sketch: it has not been deployed to a real subscription yet.
//
// Bicep has no sha256, so the names faasade derives (src/providers/azure/names.ts) are parameters;
// examples/azure/names.mjs prints them from the app's manifest:
//
//   node examples/azure/names.mjs manifest.json <subscription> <group> [prefix]
//   az deployment group create -g <group> -f examples/azure/main.bicep -p appName=shop \
//     functionName=resize storageAccountName=mystorage siteName=... queueName=... \
//     containerName=... lifecycleRuleName=... timeoutMs=60000

targetScope = 'resourceGroup'

@description('The app (its manifest\'s "app")')
param appName string

@description('The app\'s environment (its manifest\'s "environment")')
param environment string = 'main'

@description('The function\'s faasade name')
param functionName string

@description('faasade\'s prefix (azure({ prefix }), FAASADE_AZURE_PREFIX)')
param prefix string = 'faasade'

param location string = resourceGroup().location

@description('An existing storage account in this resource group: queues, results, packages')
param storageAccountName string

@description('names.ts siteName: the function app, its plan and its deployment container')
param siteName string

@description('names.ts queueName: the function\'s queue (its poison queue is <queueName>-poison)')
param queueName string

@description('names.ts containerName: the app\'s blob container')
param containerName string

@description('storage.ts ruleName: faasade\'s rule of the app\'s container in the account\'s management policy')
param lifecycleRuleName string

@description('retentionMs: how long spawned results are kept')
param retentionMs int = 604800000

@description('The function\'s timeoutMs')
param timeoutMs int = 300000

@description('providerOptions.azure.instanceMemoryMb, else memoryMb rounded up to one of these, else 2048')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('providerOptions.azure.maximumInstanceCount, else maxContainers within 40-1000, else 100')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('providerOptions.azure.httpConcurrency, else maxInputs')
@minValue(1)
@maxValue(1000)
param httpConcurrency int = 1

@description('minContainers: always-ready instances of the app\'s http group')
@minValue(0)
param alwaysReady int = 0

@description('A web function: anonymous, or function for web: { auth: true }; empty for any other function')
@allowed(['', 'anonymous', 'function'])
param web string = ''

@description('The function\'s env, then providerOptions.azure.environment')
param environmentSettings object = {}

@description('The sha256 of the zip published (the faasade-code tag; only faasade deploy reads it)')
param codeHash string = ''

@description('Principal (object) ids of identities that call the app: data roles on the account, Website Contributor on the function app')
param callerPrincipalIds array = []

// storage.ts, lifecycleRule: the prefixes calls are kept under expire; the manifest never does.
var expiring = ['results/', 'chunks/', 'calls/', 'graph/', 'cancel/', 'payloads/', 'retried/', 'started/', 'map-results/']
var dayMs = 86400000
var retentionDays = max(1, (retentionMs + dayMs - 1) / dayMs)

// Built-in roles (docs/azure.md, "Roles").
var roleIds = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'Website Contributor': 'de139f84-1756-47ae-9be6-808fbbe84772'
}
var appRoles = ['Storage Blob Data Owner', 'Storage Queue Data Contributor']
var callerRoles = ['Storage Blob Data Contributor', 'Storage Queue Data Contributor']
var callerDataRoles = flatten(map(callerPrincipalIds, id => map(callerRoles, role => { id: id, role: role })))

// site.ts, TAGS: how faasade deploy and faasade ls know what is there.
var planTags = {
  'faasade-app': take(appName, 256)
  'faasade-env': take(environment, 256)
  'faasade-function': take(functionName, 256)
}
var siteTags = union(planTags, empty(codeHash) ? {} : { 'faasade-code': codeHash })

// settings.ts, appSettings (Flex, storage by identity): the function's own settings, then faasade's.
var appSettings = union(environmentSettings, {
  FAASADE_AZURE_STORAGE__accountName: storageAccountName
  AzureWebJobsStorage__accountName: storageAccountName
  FAASADE_PROVIDER: 'azure'
  FAASADE_APP: appName
  FAASADE_ENVIRONMENT: environment
  FAASADE_FUNCTION: functionName
  FAASADE_AZURE_QUEUE: queueName
  FAASADE_AZURE_TIMEOUT_MS: string(timeoutMs)
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  FAASADE_AZURE_RESOURCE_GROUP: resourceGroup().name
  FAASADE_AZURE_PREFIX: prefix
  FAASADE_AZURE_RETENTION_MS: string(retentionMs)
  FAASADE_AZURE_PLAN: 'flex'
}, empty(web) ? {} : { FAASADE_AZURE_WEB: web })

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

// The app's container: the calls' objects and the manifest fromName and destroy read.
resource appContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
}

// The account's one management policy, with faasade's rule. This deployment writes the whole
// policy: an account whose policy has rules of its own needs them added here, or they go.
resource policy 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: lifecycleRuleName
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: [for p in expiring: '${containerName}/${p}']
            }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: retentionDays } }
            }
          }
        }
      ]
    }
  }
}

// The function's spawned inputs, and where the host moves a message it failed maxDequeueCount times.
resource queue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${queueName}-poison'
}

// Flex keeps the app's package in a container of its own, named as the app.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: siteName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: siteName
  location: location
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
  tags: planTags
}

// site.ts, siteFields: the function app with Flex's functionAppConfig.
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: siteName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  tags: siteTags
  properties: {
    serverFarmId: plan.id
    reserved: true
    httpsOnly: true
    functionAppConfig: {
      runtime: { name: 'node', version: '22' }
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReady > 0 ? [{ name: 'http', instanceCount: alwaysReady }] : []
        triggers: { http: { perInstanceConcurrency: httpConcurrency } }
      }
    }
    siteConfig: {
      appSettings: [for s in items(appSettings): { name: s.key, value: s.value }]
    }
  }
  dependsOn: [queue, poisonQueue]
}

resource appRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in appRoles: {
    scope: storage
    name: guid(storage.id, site.id, roleIds[role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: site.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource callerDataAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for grant in callerDataRoles: {
    scope: storage
    name: guid(storage.id, grant.id, roleIds[grant.role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[grant.role])
      principalId: grant.id
    }
  }
]

resource callerSiteAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for id in callerPrincipalIds: {
    scope: site
    name: guid(site.id, id, roleIds['Website Contributor'])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds['Website Contributor'])
      principalId: id
    }
  }
]

@description('The variables (or azure() options) a client of the app needs')
output faasadeEnv object = {
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  FAASADE_AZURE_RESOURCE_GROUP: resourceGroup().name
  FAASADE_AZURE_PREFIX: prefix
  FAASADE_AZURE_STORAGE_ACCOUNT: storageAccountName
  FAASADE_AZURE_RETENTION_MS: string(retentionMs)
  FAASADE_AZURE_PLAN: 'flex'
}

output functionApp string = site.name
output principalId string = site.identity.principalId
output webUrl string = empty(web) ? '' : 'https://${site.properties.defaultHostName}/'

@description('The manifest fromName reads, uploaded once per app (az login with a Storage Blob Data role)')
output manifestCommand string = 'az storage blob upload --auth-mode login --account-name ${storageAccountName} --container-name ${appContainer.name} --name manifest.json --file manifest.json --content-type application/json --overwrite'

@description('The code (OneDeploy with a remote build), once the roles have propagated')
output publishCommand string = 'az functionapp deployment source config-zip --resource-group ${resourceGroup().name} --name ${site.name} --src ${functionName}.zip --build-remote true'
