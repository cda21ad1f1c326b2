#!/bin/sh
# Registers kubeha's search attributes in a Temporal namespace, once: docker-compose.yml runs this in the
# admin-tools image after the server is healthy. Arguments are NAME=TYPE pairs (the same form as
# `temporal server start-dev --search-attribute`). An attribute already there is left alone, so the
# one-shot service may run on every `docker compose up`.
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
existing="$(temporal operator search-attribute list --namespace "$namespace")"
for pair in "$@"; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if printf '%s\n' "$existing" | grep -qw -- "$name"; then
    echo "search attribute $name already registered in $namespace"
  else
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type"
    echo "search attribute $name ($type) registered in $namespace"
  fi
done
