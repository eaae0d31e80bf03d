#!/usr/bin/env bash
# Deploys a faasade app to Google Cloud with gcloud instead of `faasade deploy`: for teams whose
# infrastructure goes through their own scripts. It makes what `faasade deploy` makes, under the
# same names (src/providers/gcp/names.ts), so Function.fromName(...) finds the app: one bucket
# per app and environment with the manifest, and per function a Cloud Tasks queue and a Cloud
# Function (2nd gen) of the same id. docs/gcp.md, "Bring your own infrastructure", has the table.
#
#   PROJECT=my-project REGION=us-central1 SOURCE=./gcp-source MANIFEST=./manifest.json \
#     bash examples/gcp/deploy.sh
#
# SOURCE is the function's source folder: your module, an index.mjs that registers faasade's
# runtime, and a package.json (docs/gcp.md, "The code"). MANIFEST is your app's manifest as faasade
# writes it; until faasade prints it itself, write it once with Node:
#
#   node --input-type=module -e '
#     const at = (path) => new URL(path, `file://${process.cwd()}/`).href;
#     const { manifestOf } = await import(at("node_modules/faasade/dist/src/core/manifest.js"));
#     const exports = Object.values(await import(at(process.argv[1])));
#     const app = exports.map((v) => v?.definition?.().app).find(Boolean);
#     process.stdout.write(JSON.stringify(manifestOf(app)));' app.mjs > manifest.json
#
# run in the folder where faasade is installed (that path is faasade's own, not an export: it may
# move in a later version).
# Each function's settings (timeout, memory, min/max instances, concurrency, env, web) are read
# from the manifest. DRY_RUN=1 prints the gcloud commands instead of running them.
set -euo pipefail

: "${PROJECT:?set PROJECT to the Google Cloud project}"
: "${REGION:?set REGION, e.g. us-central1}"
: "${SOURCE:?set SOURCE to the function source folder (index.mjs, package.json, your module)}"
: "${MANIFEST:?set MANIFEST to the app manifest JSON (see the top of this script)}"
PREFIX="${PREFIX:-faasade}"
RUNTIME="${RUNTIME:-nodejs22}"
RETENTION_MS="${RETENTION_MS:-604800000}" # 7 days, faasade's default retentionMs
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-}"     # the provider's serviceAccount; empty: Google's default
DRY_RUN="${DRY_RUN:-}"
DAY_MS=86400000

run() {
  if [[ -n $DRY_RUN ]]; then
    printf '%q ' "$@"
    printf '\n'
  else
    "$@"
  fi
}

sha8() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# names.ts's fitted(): the text when it is already [a-z0-9-] within 63 characters; else
# lowercased, other characters as "-", cut to 54, trailing "-" dropped, and a hash of the whole.
fit() {
  local text=$1 plain cut LC_ALL=C
  if [[ $text =~ [^\ -~] ]]; then
    echo "deploy.sh: $text is not plain ASCII: let faasade deploy name it" >&2
    return 1
  fi
  plain=$(printf '%s' "$text" | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9-]/-/g')
  if [[ $plain == "$text" && ${#plain} -le 63 ]]; then
    printf '%s' "$plain"
    return
  fi
  cut=$(printf '%s' "${plain:0:54}" | sed 's/-*$//')
  printf '%s-%s' "$cut" "$(sha8 "$text")"
}
label() { fit "${1//_/-}"; }

# One line per function of the manifest, fields split by the unit separator (0x1f: empty fields
# survive, unlike with tabs): name, timeoutMs, minContainers,
# maxContainers (0: unset), maxInputs, memory MB, cpu, ingress, service account, web (none,
# public or auth), and its environment as a JSON object (its env and providerOptions.gcp.environment).
functions_of() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const m = JSON.parse(readFileSync(process.argv[1], "utf8"));
    console.log([m.app, m.environment].join("\x1f"));
    for (const f of m.functions) {
      const o = f.options, g = o.providerOptions?.gcp ?? {};
      const web = o.web === undefined ? "none" : o.web.auth === true ? "auth" : "public";
      console.log([f.name, o.timeoutMs, o.minContainers, o.maxContainers ?? 0, o.maxInputs,
        g.memoryMb ?? o.memoryMb ?? 512, g.cpu ?? "", g.ingress ?? "ALLOW_ALL", g.serviceAccount ?? "",
        web, JSON.stringify({ ...o.env, ...g.environment })].join("\x1f"));
    }' "$1"
}

ingress_flag() {
  case $1 in
    ALLOW_ALL) echo all ;;
    ALLOW_INTERNAL_ONLY) echo internal-only ;;
    ALLOW_INTERNAL_AND_GCLB) echo internal-and-gclb ;;
    *) echo "deploy.sh: unknown ingress $1" >&2 && return 1 ;;
  esac
}

{ IFS=$'\x1f' read -r APP ENVIRONMENT || true; mapfile -t FUNCTIONS; } < <(functions_of "$MANIFEST")
[[ -n ${APP:-} && ${#FUNCTIONS[@]} -gt 0 ]] || { echo "deploy.sh: $MANIFEST is not a faasade manifest" >&2; exit 1; }
BUCKET=$(fit "$PREFIX-$ENVIRONMENT-$APP-$(sha8 "$PROJECT")")
AGE_DAYS=$(((RETENTION_MS + DAY_MS - 1) / DAY_MS))
WORK=$(mktemp -d)
# A dry run keeps the files its commands name, for reading; a real run removes them.
if [[ -n $DRY_RUN ]]; then echo "# files in $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi

# The bucket: in the region, uniform access, faasade's labels, one lifecycle rule on the
# prefixes calls write (never the manifest or settings/).
cat >"$WORK/lifecycle.json" <<EOF
{"rule": [{"action": {"type": "Delete"}, "condition": {"age": $AGE_DAYS, "matchesPrefix":
  ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/", "retried/", "started/", "map-results/"]}}]}
EOF
if [[ -n $DRY_RUN ]] || ! gcloud storage buckets describe "gs://$BUCKET" --project="$PROJECT" >/dev/null 2>&1; then
  run gcloud storage buckets create "gs://$BUCKET" --project="$PROJECT" --location="$REGION" \
    --uniform-bucket-level-access --lifecycle-file="$WORK/lifecycle.json"
fi
run gcloud storage buckets update "gs://$BUCKET" --project="$PROJECT" --lifecycle-file="$WORK/lifecycle.json" \
  --update-labels="faasade-app=$(label "$APP"),faasade-env=$(label "$ENVIRONMENT")"
run gcloud storage cp "$MANIFEST" "gs://$BUCKET/manifest.json" --project="$PROJECT" --content-type=application/json

RUNTIME_ACCOUNTS=()
for line in "${FUNCTIONS[@]}"; do
  IFS=$'\x1f' read -r FN TIMEOUT_MS MIN MAX CONCURRENCY MEMORY_MB CPU INGRESS FN_ACCOUNT WEB ENV_JSON <<<"$line"
  ID=$(fit "$PREFIX-$ENVIRONMENT-$APP-$FN")
  QUEUE="projects/$PROJECT/locations/$REGION/queues/$ID"
  ((MAX > 0)) || MAX=100 # Google's default, as deploy assumes
  DISPATCHES=$((MAX * CONCURRENCY > 5000 ? 5000 : MAX * CONCURRENCY))
  ACCOUNT=${FN_ACCOUNT:-$SERVICE_ACCOUNT}

  # The queue: one attempt (faasade retries by queueing anew), as many dispatches at once as the
  # function can run.
  QUEUE_FLAGS=(--project="$PROJECT" --location="$REGION" --max-attempts=1 --max-concurrent-dispatches="$DISPATCHES")
  if [[ -n $DRY_RUN ]] || ! gcloud tasks queues describe "$ID" --project="$PROJECT" --location="$REGION" >/dev/null 2>&1; then
    run gcloud tasks queues create "$ID" "${QUEUE_FLAGS[@]}"
  else
    run gcloud tasks queues update "$ID" "${QUEUE_FLAGS[@]}"
  fi

  # The function's variables (resources.ts, runtimeEnvironment), as a YAML file: JSON is YAML.
  FAASADE_ENV=$(
    node -e '
      const [own, ...pairs] = process.argv.slice(1);
      const env = { ...JSON.parse(own) };
      for (const p of pairs) { const i = p.indexOf("="); if (i > 0 && p.slice(i + 1) !== "") env[p.slice(0, i)] = p.slice(i + 1); }
      process.stdout.write(JSON.stringify(env));' "$ENV_JSON" \
      FAASADE_PROVIDER=gcp FAASADE_APP="$APP" FAASADE_ENVIRONMENT="$ENVIRONMENT" FAASADE_FUNCTION="$FN" \
      GOOGLE_CLOUD_PROJECT="$PROJECT" FAASADE_GCP_REGION="$REGION" FAASADE_GCP_PREFIX="$PREFIX" \
      FAASADE_GCP_RETENTION_MS="$RETENTION_MS" FAASADE_GCP_TIMEOUT_MS="$TIMEOUT_MS" FAASADE_GCP_QUEUE="$QUEUE" \
      FAASADE_GCP_SERVICE_ACCOUNT="$ACCOUNT"
  )
  printf '%s\n' "$FAASADE_ENV" >"$WORK/$ID.env.yaml"

  if ((MEMORY_MB % 1024 == 0)); then MEMORY="$((MEMORY_MB / 1024))Gi"; else MEMORY="${MEMORY_MB}Mi"; fi
  DEPLOY_FLAGS=(
    --project="$PROJECT" --region="$REGION" --gen2 --runtime="$RUNTIME" --source="$SOURCE"
    --entry-point=faasade --trigger-http --no-allow-unauthenticated
    --memory="$MEMORY" --timeout="$(((TIMEOUT_MS + 999) / 1000 + 5))s"
    --min-instances="$MIN" --max-instances="$MAX" --concurrency="$CONCURRENCY"
    --ingress-settings="$(ingress_flag "$INGRESS")" --serve-all-traffic-latest-revision
    --env-vars-file="$WORK/$ID.env.yaml"
    --update-labels="faasade-app=$(label "$APP"),faasade-env=$(label "$ENVIRONMENT"),faasade-function=$(label "$FN")"
  )
  [[ -z $CPU ]] || DEPLOY_FLAGS+=(--cpu="$CPU")
  [[ -z $ACCOUNT ]] || DEPLOY_FLAGS+=(--service-account="$ACCOUNT")
  run gcloud functions deploy "$ID" "${DEPLOY_FLAGS[@]}"

  # A public web function: allUsers as Cloud Run Invoker on its Cloud Run service (2nd gen).
  if [[ $WEB == public ]]; then
    run gcloud functions add-invoker-policy-binding "$ID" --project="$PROJECT" --region="$REGION" --member=allUsers
  fi
  # Spawned inputs arrive with an ID token of the runtime account: it must be an invoker of its own service.
  if [[ -n $ACCOUNT ]]; then
    run gcloud functions add-invoker-policy-binding "$ID" --project="$PROJECT" --region="$REGION" \
      --member="serviceAccount:$ACCOUNT"
    run gcloud tasks queues add-iam-policy-binding "$ID" --project="$PROJECT" --location="$REGION" \
      --member="serviceAccount:$ACCOUNT" --role=roles/cloudtasks.enqueuer
    RUNTIME_ACCOUNTS+=("$ACCOUNT")
  fi
done

# What every runtime account needs once: the bucket's objects, and acting as itself (the OIDC
# tokens of the tasks it queues). With Google's default account, grant these to it by hand.
ACCOUNTS=()
((${#RUNTIME_ACCOUNTS[@]} == 0)) || mapfile -t ACCOUNTS < <(printf '%s\n' "${RUNTIME_ACCOUNTS[@]}" | sort -u)
for ACCOUNT in "${ACCOUNTS[@]}"; do
  run gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --project="$PROJECT" \
    --member="serviceAccount:$ACCOUNT" --role=roles/storage.objectAdmin
  run gcloud iam service-accounts add-iam-policy-binding "$ACCOUNT" --project="$PROJECT" \
    --member="serviceAccount:$ACCOUNT" --role=roles/iam.serviceAccountUser
done
echo "deployed $APP ($ENVIRONMENT) as prefix $PREFIX: bucket gs://$BUCKET" >&2
