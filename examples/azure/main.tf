# A faasade app on Azure Functions (Flex Consumption), made with Terraform instead of
# `faasade deploy --provider azure`: what deploy makes, under the same names
# (src/providers/azure/names.ts), so that Function.fromName(...) finds the app. Per app and
# environment a blob container holding the manifest, with its lifecycle rule; per function a
# storage queue and its poison queue, a deployment container, a Flex plan and a function app of
# the same name, with faasade's app settings and tags; and the role assignments its managed
# identity needs on the storage account (docs/azure.md, "Roles"). Storage is reached by the apps'
# identities (no connection string). Each function's settings come from the app's manifest
# (docs/azure.md, "Bring your own infrastructure", says how to write it). The code is published
# apart, after apply (the output publish_commands). A sketch: it has not been applied to a real
# subscription yet.
#
#   terraform apply -var subscription_id=... -var resource_group=my-group -var region=westeurope \
#     -var storage_account=mystorage -var manifest_path=manifest.json

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0"
    }
    # The function app itself: azurerm_function_app_flex_consumption has no field for the HTTP
    # trigger's per-instance concurrency, which faasade sets; azapi sends the site as ARM takes it.
    azapi = {
      source  = "Azure/azapi"
      version = ">= 2.0"
    }
  }
}

variable "subscription_id" {
  description = "The subscription (AZURE_SUBSCRIPTION_ID)"
  type        = string
}

variable "resource_group" {
  description = "The resource group everything is made in; it must exist and hold the storage account"
  type        = string
}

variable "region" {
  description = "The region of the plans and function apps"
  type        = string
}

variable "storage_account" {
  description = "An existing storage account in resource_group: queues, results, packages"
  type        = string
}

variable "prefix" {
  description = "faasade's prefix (azure({ prefix }), FAASADE_AZURE_PREFIX): a letter, then up to 11 of a-z and 0-9"
  type        = string
  default     = "faasade"
}

variable "manifest_path" {
  description = "The app's manifest, as faasade writes it (JSON)"
  type        = string
}

variable "retention_ms" {
  description = "retentionMs: how long spawned results are kept"
  type        = number
  default     = 604800000
}

variable "memory_mb" {
  description = "The memory of a function that sets none (the deploy option memoryMb)"
  type        = number
  default     = 2048
}

variable "code_hashes" {
  description = "Per function, the sha256 of the zip published to it (the faasade-code tag; only faasade deploy reads it)"
  type        = map(string)
  default     = {}
}

variable "callers" {
  description = "Principal (object) ids of identities that call the app: data roles on the account, Website Contributor on each function app"
  type        = list(string)
  default     = []
}

# Queues and the manifest are made on the data plane, with your Entra identity (the deploying identity's
# roles of docs/azure.md), not the account's key.
provider "azurerm" {
  features {}
  subscription_id     = var.subscription_id
  storage_use_azuread = true
}

locals {
  manifest    = jsondecode(file(var.manifest_path))
  app         = local.manifest.app
  environment = local.manifest.environment
  base        = "${var.prefix}-${local.environment}-${local.app}"

  # names.ts: fittedName(text, max) keeps text already in [a-z0-9-] within max characters; else it
  # lowercases it, turns every other character into "-", cuts it to max - 9, drops trailing "-" and
  # appends "-" and 8 hex digits of sha256(text). storageName then makes hyphens single and drops
  # them at both ends (3 characters at least, else "-" and 4 hex digits of sha256(text) appended).
  texts = merge(
    { app = { text = local.base, max = 63 } },
    { for f in local.manifest.functions : "site/${f.name}" => { text = "${local.base}-${f.name}", max = 53 } },
    { for f in local.manifest.functions : "queue/${f.name}" => { text = "${local.base}-${f.name}", max = 56 } },
  )
  plain = { for k, t in local.texts : k => replace(lower(t.text), "/[^a-z0-9-]/", "-") }
  fitted = { for k, t in local.texts : k => (
    local.plain[k] == t.text && length(t.text) <= t.max ? t.text : "${replace(substr(local.plain[k], 0, t.max - 9), "/-+$/", "")}-${substr(sha256(t.text), 0, 8)}"
  ) }
  single        = { for k, v in local.fitted : k => replace(replace(v, "/-{2,}/", "-"), "/^-+|-+$/", "") }
  storage_names = { for k, v in local.single : k => length(v) >= 3 ? v : "${v}-${substr(sha256(local.texts[k].text), 0, 4)}" }

  # A function app's name is a global DNS name: it ends in a hash of subscription and group.
  group_hash     = substr(sha256("${var.subscription_id}/${var.resource_group}"), 0, 6)
  container      = local.storage_names["app"]
  rule_name      = "faasade${substr(replace(local.container, "/[^a-z0-9]/", ""), 0, 40)}${substr(sha256(local.container), 0, 8)}"
  blob_endpoint  = "https://${var.storage_account}.blob.core.windows.net"
  retention_days = max(1, ceil(var.retention_ms / 86400000))

  # storage.ts, lifecycleRule: the prefixes calls are kept under expire; the manifest never does.
  lifecycle_rule = {
    name    = local.rule_name
    enabled = true
    type    = "Lifecycle"
    definition = {
      filters = {
        blobTypes   = ["blockBlob"]
        prefixMatch = [for p in ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/", "retried/", "started/", "map-results/"] : "${local.container}/${p}"]
      }
      actions = { baseBlob = { delete = { daysAfterModificationGreaterThan = local.retention_days } } }
    }
  }

  # function-options.ts, azureSettings: what each function app is made with.
  functions = { for f in local.manifest.functions : f.name => {
    site  = "${local.storage_names["site/${f.name}"]}-${local.group_hash}"
    queue = local.storage_names["queue/${f.name}"]
    instance_memory_mb = coalesce(
      try(f.options.providerOptions.azure.instanceMemoryMb, null),
      [for size in [512, 2048, 4096] : size if size >= coalesce(try(f.options.memoryMb, null), var.memory_mb)]...
    )
    http_concurrency       = coalesce(try(f.options.providerOptions.azure.httpConcurrency, null), f.options.maxInputs)
    maximum_instance_count = coalesce(try(f.options.providerOptions.azure.maximumInstanceCount, null), try(f.options.maxContainers, null) == null ? 100 : min(1000, max(40, f.options.maxContainers)))
    always_ready           = f.options.minContainers
    web                    = try(f.options.web, null) == null ? "" : (try(f.options.web.auth, false) ? "function" : "anonymous")
    timeout_ms             = f.options.timeoutMs
    environment            = merge(try(f.options.env, {}), try(f.options.providerOptions.azure.environment, {}))
  } }

  # settings.ts, appSettings (Flex, storage by identity): the function's own settings, then faasade's.
  shared_settings = {
    FAASADE_AZURE_STORAGE__accountName = var.storage_account
    AzureWebJobsStorage__accountName   = var.storage_account
    FAASADE_PROVIDER                   = "azure"
    FAASADE_APP                        = local.app
    FAASADE_ENVIRONMENT                = local.environment
    AZURE_SUBSCRIPTION_ID              = var.subscription_id
    FAASADE_AZURE_RESOURCE_GROUP       = var.resource_group
    FAASADE_AZURE_PREFIX               = var.prefix
    FAASADE_AZURE_RETENTION_MS         = tostring(var.retention_ms)
    FAASADE_AZURE_PLAN                 = "flex"
  }
  app_settings = { for name, f in local.functions : name => merge(f.environment, local.shared_settings, {
    FAASADE_FUNCTION         = name
    FAASADE_AZURE_QUEUE      = f.queue
    FAASADE_AZURE_TIMEOUT_MS = tostring(f.timeout_ms)
  }, f.web == "" ? {} : { FAASADE_AZURE_WEB = f.web }) }

  # site.ts, siteFields: Flex's functionAppConfig.
  function_app_config = { for name, f in local.functions : name => {
    runtime = { name = "node", version = "22" }
    deployment = { storage = {
      type           = "blobContainer"
      value          = "${local.blob_endpoint}/${f.site}"
      authentication = { type = "SystemAssignedIdentity" }
    } }
    scaleAndConcurrency = {
      maximumInstanceCount = f.maximum_instance_count
      instanceMemoryMB     = f.instance_memory_mb
      alwaysReady          = f.always_ready > 0 ? [{ name = "http", instanceCount = f.always_ready }] : []
      triggers             = { http = { perInstanceConcurrency = f.http_concurrency } }
    }
  } }

  # site.ts, TAGS: how faasade deploy and faasade ls know what is there (values cut to 256).
  tags = { for name, f in local.functions : name => merge({
    faasade-app      = substr(local.app, 0, 256)
    faasade-env      = substr(local.environment, 0, 256)
    faasade-function = substr(name, 0, 256)
  }, contains(keys(var.code_hashes), name) ? { faasade-code = var.code_hashes[name] } : {}) }

  # What a client of the app is given (options.ts reads these variables).
  faasade_env = {
    AZURE_SUBSCRIPTION_ID         = var.subscription_id
    FAASADE_AZURE_RESOURCE_GROUP  = var.resource_group
    FAASADE_AZURE_PREFIX          = var.prefix
    FAASADE_AZURE_STORAGE_ACCOUNT = var.storage_account
    FAASADE_AZURE_RETENTION_MS    = tostring(var.retention_ms)
    FAASADE_AZURE_PLAN            = "flex"
  }

  # docs/azure.md, "Roles": what each function app's identity needs on the account; callers get the
  # data roles on the account and Website Contributor on each function app (host keys, keepWarm).
  app_roles    = ["Storage Blob Data Owner", "Storage Queue Data Contributor"]
  caller_roles = ["Storage Blob Data Contributor", "Storage Queue Data Contributor"]
}

data "azurerm_storage_account" "this" {
  name                = var.storage_account
  resource_group_name = var.resource_group
}

# The app's container: the calls' objects and the manifest fromName and destroy read.
resource "azurerm_storage_container" "app" {
  name               = local.container
  storage_account_id = data.azurerm_storage_account.this.id
}

resource "azurerm_storage_blob" "manifest" {
  name                   = "manifest.json"
  storage_account_name   = var.storage_account
  storage_container_name = azurerm_storage_container.app.name
  type                   = "Block"
  source                 = var.manifest_path
  content_type           = "application/json"
}

# The account's one management policy, with faasade's rule. Terraform owns the whole policy: an
# account whose policy has rules of its own needs them added here, or they go.
resource "azurerm_storage_management_policy" "this" {
  storage_account_id = data.azurerm_storage_account.this.id
  rule {
    name    = local.lifecycle_rule.name
    enabled = local.lifecycle_rule.enabled
    filters {
      blob_types   = local.lifecycle_rule.definition.filters.blobTypes
      prefix_match = local.lifecycle_rule.definition.filters.prefixMatch
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = local.lifecycle_rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan
      }
    }
  }
}

# The function's spawned inputs, and where the host moves a message it failed maxDequeueCount times.
resource "azurerm_storage_queue" "fn" {
  for_each             = local.functions
  name                 = each.value.queue
  storage_account_name = var.storage_account
}

resource "azurerm_storage_queue" "poison" {
  for_each             = local.functions
  name                 = "${each.value.queue}-poison"
  storage_account_name = var.storage_account
}

# Flex keeps each app's package in a container of its own, named as the app.
resource "azurerm_storage_container" "deployment" {
  for_each           = local.functions
  name               = each.value.site
  storage_account_id = data.azurerm_storage_account.this.id
}

resource "azurerm_service_plan" "fn" {
  for_each            = local.functions
  name                = each.value.site
  resource_group_name = var.resource_group
  location            = var.region
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = { for k, v in local.tags[each.key] : k => v if k != "faasade-code" }
}

resource "azapi_resource" "site" {
  for_each  = local.functions
  type      = "Microsoft.Web/sites@2024-04-01"
  name      = each.value.site
  parent_id = "/subscriptions/${var.subscription_id}/resourceGroups/${var.resource_group}"
  location  = var.region
  tags      = local.tags[each.key]
  identity {
    type = "SystemAssigned"
  }
  body = {
    kind = "functionapp,linux"
    properties = {
      serverFarmId      = azurerm_service_plan.fn[each.key].id
      reserved          = true
      httpsOnly         = true
      functionAppConfig = local.function_app_config[each.key]
      siteConfig = {
        appSettings = [for k, v in local.app_settings[each.key] : { name = k, value = v }]
      }
    }
  }
  response_export_values = ["properties.defaultHostName"]
  depends_on             = [azurerm_storage_container.deployment, azurerm_storage_queue.fn, azurerm_storage_queue.poison]
}

resource "azurerm_role_assignment" "app" {
  for_each             = { for pair in setproduct(keys(local.functions), local.app_roles) : "${pair[0]} ${pair[1]}" => pair }
  scope                = data.azurerm_storage_account.this.id
  role_definition_name = each.value[1]
  principal_id         = azapi_resource.site[each.value[0]].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "caller_data" {
  for_each             = { for pair in setproduct(var.callers, local.caller_roles) : "${pair[0]} ${pair[1]}" => pair }
  scope                = data.azurerm_storage_account.this.id
  role_definition_name = each.value[1]
  principal_id         = each.value[0]
}

resource "azurerm_role_assignment" "caller_site" {
  for_each             = { for pair in setproduct(var.callers, keys(local.functions)) : "${pair[0]} ${pair[1]}" => pair }
  scope                = azapi_resource.site[each.value[1]].id
  role_definition_name = "Website Contributor"
  principal_id         = each.value[0]
}

output "faasade_env" {
  description = "The variables (or azure() options) a client of the app needs"
  value       = local.faasade_env
}

output "function_apps" {
  value = { for k, f in local.functions : k => f.site }
}

output "web_urls" {
  value = { for k, f in local.functions : k => "https://${azapi_resource.site[k].output.properties.defaultHostName}/" if f.web != "" }
}

output "publish_commands" {
  description = "How to publish each function's zip (OneDeploy, with a remote build) once the roles have propagated"
  value       = { for k, f in local.functions : k => "az functionapp deployment source config-zip --resource-group ${var.resource_group} --name ${f.site} --src <${k}.zip> --build-remote true" }
}
