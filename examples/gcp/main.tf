# A faasade app on Google Cloud, made with Terraform instead of `faasade deploy`: what deploy
# would make, under the same names (src/providers/gcp/names.ts), so Function.fromName(...) finds
# the app. One bucket per app and environment holding the manifest; per function a Cloud Tasks
# queue and a Cloud Function (2nd gen) of the same id; the IAM bindings docs/gcp.md lists.
# Each function's settings come from the app's manifest (examples/gcp/deploy.sh shows how to
# write it). A sketch: names hold for ASCII app and function names; a shared bucket is not covered.
#
#   terraform apply -var project=my-project -var manifest_path=manifest.json \
#     -var source_zip=source.zip -var service_account=runner@my-project.iam.gserviceaccount.com

terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0"
    }
  }
}

variable "project" {
  type = string
}

variable "region" {
  type    = string
  default = "us-central1"
}

variable "prefix" {
  description = "faasade's prefix (gcp({ prefix }), FAASADE_GCP_PREFIX)"
  type        = string
  default     = "faasade"
}

variable "manifest_path" {
  description = "The app's manifest, as faasade writes it (JSON)"
  type        = string
}

variable "source_zip" {
  description = "A zip of the function source: your module, index.mjs registering faasade/gcp/runtime, package.json"
  type        = string
}

variable "runtime" {
  type    = string
  default = "nodejs22"
}

variable "retention_ms" {
  description = "retentionMs: how long spawned results are kept"
  type        = number
  default     = 604800000
}

variable "service_account" {
  description = "The runtime service account of the functions; empty: Google's default, and no bindings are made for it"
  type        = string
  default     = ""
}

variable "callers" {
  description = "Principals that call the app, e.g. serviceAccount:backend@my-project.iam.gserviceaccount.com"
  type        = list(string)
  default     = []
}

provider "google" {
  project = var.project
  region  = var.region
}

locals {
  manifest    = jsondecode(file(var.manifest_path))
  app         = local.manifest.app
  environment = local.manifest.environment

  # Every name faasade fits (names.ts, fitted()): kept when already [a-z0-9-] within 63
  # characters; else lowercased, other characters as "-", cut to 54, trailing "-" dropped, and
  # "-" plus 8 hex digits of sha256 of the whole text appended.
  texts = merge(
    { for f in local.manifest.functions : "id/${f.name}" => "${var.prefix}-${local.environment}-${local.app}-${f.name}" },
    { for f in local.manifest.functions : "label/${f.name}" => replace(f.name, "_", "-") },
    {
      bucket      = "${var.prefix}-${local.environment}-${local.app}-${substr(sha256(var.project), 0, 8)}"
      "label/app" = replace(local.app, "_", "-")
      "label/env" = replace(local.environment, "_", "-")
    },
  )
  plain = { for k, t in local.texts : k => replace(lower(t), "/[^a-z0-9-]/", "-") }
  fitted = { for k, t in local.texts : k => (
    local.plain[k] == t && length(t) <= 63 ? t : "${replace(substr(local.plain[k], 0, 54), "/-+$/", "")}-${substr(sha256(t), 0, 8)}"
  ) }

  bucket = local.fitted["bucket"]
  labels = { faasade-app = local.fitted["label/app"], faasade-env = local.fitted["label/env"] }

  # What deploy derives from each function's options (function-options.ts, queue.ts, resources.ts).
  functions = { for f in local.manifest.functions : f.name => {
    id              = local.fitted["id/${f.name}"]
    memory_mb       = coalesce(try(f.options.providerOptions.gcp.memoryMb, null), try(f.options.memoryMb, null), 512)
    cpu             = try(f.options.providerOptions.gcp.cpu, null)
    ingress         = coalesce(try(f.options.providerOptions.gcp.ingress, null), "ALLOW_ALL")
    service_account = try(f.options.providerOptions.gcp.serviceAccount, null) != null ? f.options.providerOptions.gcp.serviceAccount : (var.service_account == "" ? null : var.service_account)
    timeout_s       = ceil(f.options.timeoutMs / 1000) + 5
    min_instances   = f.options.minContainers
    max_instances   = try(f.options.maxContainers, null) == null ? 100 : f.options.maxContainers
    concurrency     = f.options.maxInputs
    web             = try(f.options.web, null) == null ? "none" : (try(f.options.web.auth, false) ? "auth" : "public")
    timeout_ms      = f.options.timeoutMs
    environment     = merge(try(f.options.env, {}), try(f.options.providerOptions.gcp.environment, {}))
    label           = local.fitted["label/${f.name}"]
  } }

  runtime_accounts = toset([for f in local.functions : f.service_account if f.service_account != null])
  callers_by_function = { for pair in setproduct(var.callers, keys(local.functions)) : "${pair[0]} ${pair[1]}" => {
    member   = pair[0]
    function = pair[1]
  } }
}

# The app's bucket: deleted with its objects, as `faasade destroy` empties it.
resource "google_storage_bucket" "app" {
  name                        = local.bucket
  location                    = var.region
  uniform_bucket_level_access = true
  labels                      = local.labels
  force_destroy               = true

  lifecycle_rule {
    condition {
      age            = ceil(var.retention_ms / 86400000)
      matches_prefix = ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/", "retried/", "started/", "map-results/"]
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_object" "manifest" {
  name         = "manifest.json"
  bucket       = google_storage_bucket.app.name
  source       = var.manifest_path
  content_type = "application/json"
}

# The source the functions build from, named by its hash so that a change redeploys them.
resource "google_storage_bucket_object" "source" {
  name   = "source/${filesha256(var.source_zip)}.zip"
  bucket = google_storage_bucket.app.name
  source = var.source_zip
}

resource "google_cloud_tasks_queue" "fn" {
  for_each = local.functions
  name     = each.value.id
  location = var.region

  rate_limits {
    max_concurrent_dispatches = min(5000, each.value.max_instances * each.value.concurrency)
  }
  # One attempt: faasade retries by queueing a new task, with its own policy's delay.
  retry_config {
    max_attempts = 1
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  name     = each.value.id
  location = var.region
  labels   = merge(local.labels, { faasade-function = each.value.label })

  build_config {
    runtime     = var.runtime
    entry_point = "faasade"
    source {
      storage_source {
        bucket = google_storage_bucket.app.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory_mb % 1024 == 0 ? "${each.value.memory_mb / 1024}Gi" : "${each.value.memory_mb}Mi"
    available_cpu                    = each.value.cpu == null ? null : tostring(each.value.cpu)
    timeout_seconds                  = each.value.timeout_s
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    ingress_settings                 = each.value.ingress
    service_account_email            = each.value.service_account
    all_traffic_on_latest_revision   = true
    # faasade's variables (resources.ts, runtimeEnvironment) over the function's own.
    environment_variables = merge(each.value.environment, {
      FAASADE_PROVIDER         = "gcp"
      FAASADE_APP              = local.app
      FAASADE_ENVIRONMENT      = local.environment
      FAASADE_FUNCTION         = each.key
      GOOGLE_CLOUD_PROJECT     = var.project
      FAASADE_GCP_REGION       = var.region
      FAASADE_GCP_PREFIX       = var.prefix
      FAASADE_GCP_RETENTION_MS = tostring(var.retention_ms)
      FAASADE_GCP_TIMEOUT_MS   = tostring(each.value.timeout_ms)
      FAASADE_GCP_QUEUE        = "projects/${var.project}/locations/${var.region}/queues/${each.value.id}"
      }, each.value.service_account == null ? {} : {
      FAASADE_GCP_SERVICE_ACCOUNT = each.value.service_account
    })
  }
}

# A public web function (web without auth): allUsers as Cloud Run Invoker on the function's Cloud
# Run service, which a 2nd gen function has under its own id. Not the Functions API's policy.
resource "google_cloud_run_service_iam_member" "public" {
  for_each = { for k, f in local.functions : k => f if f.web == "public" }
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The runtime account: an invoker of every function (Cloud Tasks delivers each spawned input with
# an ID token of that account), an enqueuer of every queue, the bucket's objects, acting as itself.
resource "google_cloud_run_service_iam_member" "runtime_invoker" {
  for_each = { for pair in setproduct(tolist(local.runtime_accounts), keys(local.functions)) : "${pair[0]} ${pair[1]}" => pair }
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.value[1]].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${each.value[0]}"
}

resource "google_cloud_tasks_queue_iam_member" "runtime_enqueuer" {
  for_each = { for pair in setproduct(tolist(local.runtime_accounts), keys(local.functions)) : "${pair[0]} ${pair[1]}" => pair }
  location = var.region
  name     = google_cloud_tasks_queue.fn[each.value[1]].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${each.value[0]}"
}

resource "google_storage_bucket_iam_member" "runtime_objects" {
  for_each = local.runtime_accounts
  bucket   = google_storage_bucket.app.name
  role     = "roles/storage.objectAdmin"
  member   = "serviceAccount:${each.value}"
}

resource "google_service_account_iam_member" "runtime_act_as_itself" {
  for_each           = local.runtime_accounts
  service_account_id = "projects/${var.project}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${each.value}"
}

# Callers: invoke, read each function, create/delete/list its tasks, the bucket's objects, and act
# as the runtime account (a task's OIDC token is minted as it, and Cloud Tasks requires that).
resource "google_project_iam_custom_role" "caller_tasks" {
  count       = length(var.callers) > 0 ? 1 : 0
  role_id     = replace("${var.prefix}_${local.environment}_${local.app}_caller", "-", "_")
  title       = "faasade caller of ${local.app} (${local.environment})"
  permissions = ["cloudtasks.tasks.create", "cloudtasks.tasks.delete", "cloudtasks.tasks.list"]
}

resource "google_cloud_run_service_iam_member" "caller_invoker" {
  for_each = local.callers_by_function
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

resource "google_cloudfunctions2_function_iam_member" "caller_viewer" {
  for_each       = local.callers_by_function
  location       = var.region
  cloud_function = google_cloudfunctions2_function.fn[each.value.function].name
  role           = "roles/cloudfunctions.viewer"
  member         = each.value.member
}

resource "google_cloud_tasks_queue_iam_member" "caller_tasks" {
  for_each = local.callers_by_function
  location = var.region
  name     = google_cloud_tasks_queue.fn[each.value.function].name
  role     = google_project_iam_custom_role.caller_tasks[0].id
  member   = each.value.member
}

resource "google_storage_bucket_iam_member" "caller_objects" {
  for_each = toset(var.callers)
  bucket   = google_storage_bucket.app.name
  role     = "roles/storage.objectAdmin"
  member   = each.value
}

resource "google_service_account_iam_member" "caller_act_as_runtime" {
  for_each           = { for pair in setproduct(var.callers, tolist(local.runtime_accounts)) : "${pair[0]} ${pair[1]}" => pair }
  service_account_id = "projects/${var.project}/serviceAccounts/${each.value[1]}"
  role               = "roles/iam.serviceAccountUser"
  member             = each.value[0]
}

output "bucket" {
  value = google_storage_bucket.app.name
}

output "web_urls" {
  value = { for k, f in local.functions : k => google_cloudfunctions2_function.fn[k].url if f.web != "none" }
}
