#!/usr/bin/env bash
# Refuses to start the deployment with a missing, placeholder or weak secret.
# Usage: check-secrets.sh NAME [NAME ...]  (names of environment variables holding secrets)
# Run by the airflow-init service before anything else; every Airflow service waits for it.
set -uo pipefail
min_length=16
bad=0
for name in "$@"; do
  value="${!name-}"
  if [ -z "$value" ]; then
    echo "check-secrets: $name is not set: put a secret in .env (python3 -c \"import secrets; print(secrets.token_urlsafe(32))\")" >&2
    bad=1
  elif [ "$value" = "change-me" ] || [ "$value" = "cxpipe-demo-key-not-secret" ]; then
    echo "check-secrets: $name still holds the example value: replace it in .env with a secret of your own" >&2
    bad=1
  elif [ "${#value}" -lt "$min_length" ]; then
    echo "check-secrets: $name is shorter than $min_length characters: use a longer secret" >&2
    bad=1
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "check-secrets: refusing to start (no secret value is printed here)" >&2
  exit 1
fi
echo "check-secrets: $# secrets set"
