#!/bin/sh
# Entry point of the function images: export TEXT2PIXI_REDIS_URL from the OpenFaaS secret file
# /var/openfaas/secrets/text2pixi-redis-url, then exec of-watchdog (which passes its environment
# on to `python index.py`).
#
# Why: the functions need the Redis password, OpenFaaS hands secrets to functions only as files,
# and a value under `environment:` in stack.yml would be stored in the Deployment and listed by
# the gateway's /system/functions. This way the URL exists only in the secret and in the memory
# of the function's own processes. An explicit TEXT2PIXI_REDIS_URL (e.g. `docker run -e`) wins.
set -eu

secrets_dir="${TEXT2PIXI_SECRETS_DIR:-/var/openfaas/secrets}"
if [ -z "${TEXT2PIXI_REDIS_URL:-}" ] && [ -r "$secrets_dir/text2pixi-redis-url" ]; then
  TEXT2PIXI_REDIS_URL="$(cat "$secrets_dir/text2pixi-redis-url")"
  export TEXT2PIXI_REDIS_URL
fi
exec "$@"
