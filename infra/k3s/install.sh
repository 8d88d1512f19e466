#!/usr/bin/env bash
# Install or upgrade the whole text2pixi deployment on one Linux host with AVX2:
# k3s, OpenFaaS CE (official Helm chart, infra/k3s/values.yaml), Redis, MinIO (buckets, lifecycle
# rule, application user), the model upload, the warm workers, cloudflared and the functions.
#
#   sudo TUNNEL_TOKEN_FILE=/root/tunnel-token infra/k3s/install.sh
#
# Idempotent: every step checks or converges; run it again to upgrade (CI does, with TAG=<sha>).
# Secrets come from environment variables or files (NAME or NAME_FILE), else from the cluster
# (kept across runs), else they are generated. Their values are never printed.
#   REDIS_PASSWORD, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD, S3_ACCESS_KEY, S3_SECRET_KEY, API_KEY,
#   TUNNEL_TOKEN (required on the first run unless SKIP_TUNNEL=1; no default can be generated)
# Other settings:
#   REGISTRY, TAG                                 images, as in stack.yml
#   MODEL                                         model pushed to MinIO and served by the workers
#     (each defaults to what the workers run now, so a plain re-run changes nothing; on the first
#     run to ghcr.io/text2pixi, latest and qwen2.5-coder-1.5b-instruct-q4_k_m)
#   FORCE_MODEL_PUSH=1                            upload the model again even if it was pushed
#   WORKER_HPA (auto|on|off)                      auto: HPA 1..2 workers on hosts with >= 14 CPUs
#     (keda: scale 1..2 on the queue's length with KEDA, installed beforehand, instead of the HPA)
#   OPENFAAS_CHART_VERSION (15.0.6)               openfaas/openfaas chart version
#   API_KEY_OUT (~/.config/text2pixi/api-key)     where a generated API key is written (mode 600)
#   GATEWAY_PORT (8080)                           local port for the gateway port-forward
#   PUBLIC_HOSTNAME                               if set, the public URL is checked at the end
#   SKIP_TUNNEL=1, SMOKE_TEST=0                   skip cloudflared / the warm-up call at the end
#   CORS_ORIGINS (https://*.vercel.app)           browser origins for the API (stack.yml; give it on every run)
#   K3S_EXEC                                      flags for the k3s installer
set -euo pipefail

cd "$(dirname "$0")/../.."

REGISTRY="${REGISTRY:-}"
TAG="${TAG:-}"
MODEL="${MODEL:-}"
FORCE_MODEL_PUSH="${FORCE_MODEL_PUSH:-0}"
WORKER_HPA="${WORKER_HPA:-auto}"
OPENFAAS_CHART_VERSION="${OPENFAAS_CHART_VERSION:-15.0.6}"
API_KEY_OUT="${API_KEY_OUT:-$HOME/.config/text2pixi/api-key}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
PUBLIC_HOSTNAME="${PUBLIC_HOSTNAME:-}"
SKIP_TUNNEL="${SKIP_TUNNEL:-0}"
SMOKE_TEST="${SMOKE_TEST:-1}"
K3S_EXEC="${K3S_EXEC:---disable traefik --disable servicelb --write-kubeconfig-mode 0600}"

FUNCTIONS=(translate status warmup)
NS=text2pixi

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

workdir="$(mktemp -d)"
port_forward_pid=""
cleanup() {
  if [ -n "$port_forward_pid" ]; then kill "$port_forward_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root: run this script with sudo"
}

# --- host ----------------------------------------------------------------------------------

preflight() {
  [ "$(uname -s)" = Linux ] || die "Linux only"
  [ "$(uname -m)" = x86_64 ] || die "x86-64 only (the images are built for AVX2/FMA)"
  grep -qw avx2 /proc/cpuinfo || die "this CPU has no AVX2; the llama.cpp build needs AVX2 and FMA"
  grep -qw fma /proc/cpuinfo || die "this CPU has no FMA; the llama.cpp build needs AVX2 and FMA"
  for tool in curl base64 od head nproc; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y curl coreutils)"
  done
  for file in stack.yml infra/k3s/values.yaml infra/k3s/namespaces.yaml; do
    [ -f "$file" ] || die "run from a checkout of the repository ($file is missing)"
  done
}

install_k3s() {
  if ! command -v k3s >/dev/null && ! kubectl get nodes >/dev/null 2>&1; then
    need_root "installing k3s"
    log "k3s (official installer)"
    curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC="$K3S_EXEC" sh -
  fi
  if [ -z "${KUBECONFIG:-}" ] && [ -r /etc/rancher/k3s/k3s.yaml ]; then
    export KUBECONFIG=/etc/rancher/k3s/k3s.yaml
  fi
  kubectl get nodes >/dev/null 2>&1 || die "kubectl cannot reach the cluster (KUBECONFIG?)"
  kubectl wait --for=condition=Ready node --all --timeout=300s >/dev/null
}

install_tools() {
  if ! command -v helm >/dev/null; then
    need_root "installing helm"
    log "helm (official installer)"
    curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash
  fi
  if ! command -v faas-cli >/dev/null; then
    need_root "installing faas-cli"
    log "faas-cli (official installer)"
    curl -sSL https://cli.openfaas.com | sh
  fi
}

# --- secrets -------------------------------------------------------------------------------

random_hex() {  # BYTES: print 2*BYTES hex characters from /dev/urandom
  head -c "$1" /dev/urandom | od -An -tx1 -v | tr -d ' \n'
}

existing_secret() {  # NAMESPACE NAME KEY: print the stored value, or nothing
  local encoded
  encoded="$(kubectl get secret "$2" -n "$1" -o "go-template={{with index .data \"$3\"}}{{.}}{{end}}" 2>/dev/null || true)"
  if [ -n "$encoded" ]; then printf '%s' "$encoded" | base64 -d; fi
}

# resolve OUT VAR NAMESPACE SECRET KEY BYTES: OUT := $VAR, else the file $VAR_FILE, else the value
# already in the cluster, else BYTES random bytes as hex (BYTES=0: the value is required).
resolve() {
  local out="$1" var="$2" ns="$3" secret="$4" key="$5" bytes="$6" file_var="${2}_FILE" value=""
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die "$file_var: cannot read the file"
    value="$(cat "${!file_var}")"
  else
    value="$(existing_secret "$ns" "$secret" "$key")"
  fi
  if [ -z "$value" ]; then
    [ "$bytes" -gt 0 ] || die "set $var or $file_var (first run)"
    value="$(random_hex "$bytes")"
    GENERATED+=("$var")
  fi
  printf -v "$out" '%s' "$value"
}

put_secret() {  # NAMESPACE NAME KEY VALUE [KEY VALUE ...]: create or update, values via files
  local ns="$1" name="$2" dir
  shift 2
  dir="$(mktemp -d "$workdir/secret.XXXXXX")"
  local args=()
  while [ $# -gt 0 ]; do
    printf '%s' "$2" >"$dir/$1"
    args+=("--from-file=$1=$dir/$1")
    shift 2
  done
  # Server-side apply: no last-applied-configuration annotation holding a second copy of the data.
  kubectl create secret generic "$name" -n "$ns" "${args[@]}" --dry-run=client -o yaml \
    | kubectl apply --server-side --force-conflicts --field-manager=text2pixi-install -f - >/dev/null
  rm -rf "$dir"
}

create_secrets() {
  log "secrets (values are never printed)"
  GENERATED=()
  local redis_password redis_url minio_user minio_password s3_access s3_secret api_key tunnel_token
  resolve redis_password REDIS_PASSWORD "$NS" text2pixi-redis password 24
  [[ "$redis_password" =~ ^[A-Za-z0-9._~-]+$ ]] || die "REDIS_PASSWORD may use only A-Z a-z 0-9 . _ ~ - (it goes into a URL)"
  redis_url="redis://:${redis_password}@redis.${NS}.svc.cluster.local:6379/0"
  put_secret "$NS" text2pixi-redis password "$redis_password" url "$redis_url"
  put_secret openfaas-fn text2pixi-redis-url text2pixi-redis-url "$redis_url"

  resolve minio_user MINIO_ROOT_USER "$NS" minio-root root-user 8
  resolve minio_password MINIO_ROOT_PASSWORD "$NS" minio-root root-password 20
  put_secret "$NS" minio-root root-user "$minio_user" root-password "$minio_password"

  # The application's S3 user (made by the minio-setup Job); the same values in both namespaces.
  resolve s3_access S3_ACCESS_KEY "$NS" text2pixi-s3-access-key text2pixi-s3-access-key 8
  resolve s3_secret S3_SECRET_KEY "$NS" text2pixi-s3-secret-key text2pixi-s3-secret-key 20
  for ns in "$NS" openfaas-fn; do
    put_secret "$ns" text2pixi-s3-access-key text2pixi-s3-access-key "$s3_access"
    put_secret "$ns" text2pixi-s3-secret-key text2pixi-s3-secret-key "$s3_secret"
  done

  resolve api_key API_KEY openfaas-fn text2pixi-api-key text2pixi-api-key 32
  put_secret openfaas-fn text2pixi-api-key text2pixi-api-key "$api_key"
  if [[ " ${GENERATED[*]} " == *" API_KEY "* ]]; then
    mkdir -p "$(dirname "$API_KEY_OUT")"
    (umask 077 && printf '%s\n' "$api_key" >"$API_KEY_OUT")
    log "generated the API key: $API_KEY_OUT (send it as X-API-Key)"
  fi
  printf 'X-API-Key: %s\n' "$api_key" >"$workdir/api-key-header"

  if [ "$SKIP_TUNNEL" != 1 ]; then
    resolve tunnel_token TUNNEL_TOKEN cloudflared cloudflared-token token 0
    put_secret cloudflared cloudflared-token token "$tunnel_token"
  fi
  if [ ${#GENERATED[@]} -gt 0 ]; then log "generated: ${GENERATED[*]}"; fi
}

# --- workloads -----------------------------------------------------------------------------

wait_job() {  # NAME TIMEOUT_SECONDS: wait until the Job completes; show its logs and fail if it fails
  local name="$1" deadline=$((SECONDS + $2)) state
  while :; do
    state="$(kubectl -n "$NS" get job "$name" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}' || true)"
    case " $state " in
      *" Complete "*) return 0 ;;
      *" Failed "*)
        kubectl -n "$NS" logs "job/$name" --tail=50 >&2 || true
        die "job $name failed" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || die "job $name did not finish in $2 s"
    sleep 5
  done
}

worker_image() { printf '%s/text2pixi-worker:%s' "$REGISTRY" "$TAG"; }

current_worker() {  # JSONPATH inside the worker container: print it, or nothing before the first install
  kubectl -n "$NS" get deployment text2pixi-worker \
    -o "jsonpath={.spec.template.spec.containers[?(@.name==\"worker\")]$1}" 2>/dev/null || true
}

choose_release() {  # REGISTRY, TAG, MODEL: given, else what runs now (a re-run keeps a rolled model), else defaults
  local image
  image="$(current_worker .image)"
  if [[ "$image" =~ ^(.+)/text2pixi-worker:([^/]+)$ ]]; then
    REGISTRY="${REGISTRY:-${BASH_REMATCH[1]}}"
    TAG="${TAG:-${BASH_REMATCH[2]}}"
  fi
  if [ -z "$MODEL" ]; then MODEL="$(current_worker '.env[?(@.name=="TEXT2PIXI_MODEL")].value')"; fi
  REGISTRY="${REGISTRY:-ghcr.io/text2pixi}"
  TAG="${TAG:-latest}"
  MODEL="${MODEL:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
  [[ "$MODEL" =~ ^[A-Za-z0-9._-]+$ ]] || die "MODEL must be a registered model name"
  log "release: images $REGISTRY/text2pixi-*:$TAG, model $MODEL"
}

openfaas() {
  log "OpenFaaS CE (Helm chart openfaas/openfaas $OPENFAAS_CHART_VERSION)"
  helm repo add openfaas https://openfaas.github.io/faas-netes/ --force-update >/dev/null
  helm repo update openfaas >/dev/null
  helm upgrade --install openfaas openfaas/openfaas --namespace openfaas \
    --version "$OPENFAAS_CHART_VERSION" -f infra/k3s/values.yaml --wait --timeout 10m
}

storage() {
  log "Redis, MinIO and network policies"
  kubectl apply -f infra/k3s/network-policies.yaml -f infra/k3s/redis.yaml -f infra/minio/minio.yaml
  kubectl -n "$NS" rollout status statefulset/redis --timeout=5m
  kubectl -n "$NS" rollout status statefulset/minio --timeout=5m

  log "MinIO buckets, lifecycle rule and application user"
  kubectl -n "$NS" delete job minio-setup --ignore-not-found --wait=true >/dev/null
  kubectl apply -f infra/minio/setup-job.yaml
  wait_job minio-setup 600
}

push_model() {
  local previous done_before
  previous="$(kubectl -n "$NS" get job text2pixi-model-push \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="TEXT2PIXI_MODEL")].value}' 2>/dev/null || true)"
  done_before="$(kubectl -n "$NS" get job text2pixi-model-push \
    -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}' 2>/dev/null || true)"
  if [ "$previous" = "$MODEL" ] && [ "$done_before" = True ] && [ "$FORCE_MODEL_PUSH" != 1 ]; then
    log "model $MODEL: already in MinIO (FORCE_MODEL_PUSH=1 uploads it again)"
    return 0
  fi
  log "model $MODEL: upload to s3://models (text2pixi model push)"
  kubectl -n "$NS" delete job text2pixi-model-push --ignore-not-found --wait=true >/dev/null
  kubectl set env --local -f infra/minio/model-push-job.yaml "TEXT2PIXI_MODEL=$MODEL" -o yaml \
    | kubectl set image --local -f - "push=$(worker_image)" -o yaml \
    | kubectl apply -f -
  wait_job text2pixi-model-push 3600
}

workers() {
  log "warm workers ($(worker_image), model $MODEL)"
  kubectl set env --local -f infra/k3s/worker.yaml "TEXT2PIXI_MODEL=$MODEL" -o yaml \
    | kubectl set image --local -f - "worker=$(worker_image)" -o yaml \
    | kubectl apply -f -
  local hpa="$WORKER_HPA"
  if [ "$hpa" = auto ]; then
    if [ "$(nproc)" -ge 14 ]; then hpa=on; else hpa=off; fi
  fi
  if [ "$hpa" != keda ]; then  # no KEDA objects left over (nothing to do where KEDA is not installed)
    kubectl delete -f infra/k3s/worker-keda.yaml --ignore-not-found >/dev/null 2>&1 || true
  fi
  case "$hpa" in
    on) kubectl apply -f infra/k3s/worker-hpa.yaml ;;
    off) kubectl -n "$NS" delete hpa text2pixi-worker --ignore-not-found >/dev/null ;;
    keda)  # KEDA makes its own HPA: ours must go first
      kubectl -n "$NS" delete hpa text2pixi-worker --ignore-not-found >/dev/null
      kubectl apply -f infra/k3s/worker-keda.yaml ;;
    *) die "WORKER_HPA must be auto, on, off or keda" ;;
  esac
  # The first start downloads the model from MinIO and loads it: allow a while.
  kubectl -n "$NS" rollout status deployment/text2pixi-worker --timeout=20m
}

tunnel() {
  if [ "$SKIP_TUNNEL" = 1 ]; then
    log "cloudflared: skipped (SKIP_TUNNEL=1)"
    return 0
  fi
  log "cloudflared"
  kubectl apply -f infra/cloudflared/cloudflared.yaml
  kubectl -n cloudflared rollout status deployment/cloudflared --timeout=5m
}

functions() {
  log "functions: faas-cli deploy -f stack.yml (REGISTRY=$REGISTRY TAG=$TAG)"
  kubectl -n openfaas rollout status deployment/gateway --timeout=5m
  kubectl -n openfaas port-forward svc/gateway "$GATEWAY_PORT:8080" >"$workdir/port-forward.log" 2>&1 &
  port_forward_pid=$!
  export OPENFAAS_URL="http://127.0.0.1:$GATEWAY_PORT"
  local tries=0
  until curl -fsS "$OPENFAAS_URL/healthz" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || die "the gateway port-forward did not come up: $(cat "$workdir/port-forward.log")"
    sleep 1
  done
  existing_secret openfaas basic-auth basic-auth-password \
    | faas-cli login --username admin --password-stdin --gateway "$OPENFAAS_URL" >/dev/null
  REGISTRY="$REGISTRY" TAG="$TAG" faas-cli deploy -f stack.yml --gateway "$OPENFAAS_URL"
  for fn in "${FUNCTIONS[@]}"; do
    kubectl -n openfaas-fn rollout status "deployment/$fn" --timeout=5m
  done
  if [ "$SMOKE_TEST" = 1 ]; then
    log "smoke test: POST /function/warmup"
    curl -fsS --max-time 120 --data '' -H @"$workdir/api-key-header" "$OPENFAAS_URL/function/warmup"
    printf '\n' >&2
  fi
}

summary() {
  log "done"
  if [ -n "$PUBLIC_HOSTNAME" ] && [ "$SKIP_TUNNEL" != 1 ]; then
    if curl -fsS --max-time 20 "https://$PUBLIC_HOSTNAME/healthz" >/dev/null 2>&1; then
      log "public endpoint: https://$PUBLIC_HOSTNAME/function/translate"
    else
      log "https://$PUBLIC_HOSTNAME/healthz does not answer yet; check the tunnel (docs/deploy.md, step 6)"
    fi
  fi
}

main() {
  preflight
  install_k3s
  install_tools
  choose_release
  log "namespaces"
  kubectl apply -f infra/k3s/namespaces.yaml
  openfaas
  create_secrets
  storage
  push_model
  workers
  tunnel
  functions
  summary
}

main "$@"
