#!/usr/bin/env bash
# What the tests need beyond Python, installed from Debian's packages when missing:
#   make test:          chromium (browser tests), nodejs + npm (the Sanity stand-in)
#   make test-cluster:  haproxy and redis-server (the cluster's balancer and its private Redis)
# Installing needs root and apt-get; otherwise it says what is missing and stops.
set -euo pipefail

declare -A command_of=([chromium]=chromium [nodejs]=node [npm]=npm [haproxy]=haproxy [redis-server]=redis-server)
missing=()
for package in "$@"; do
  tool=${command_of[$package]:-$package}
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/bin/$tool" ] && [ ! -x "/usr/sbin/$tool" ]; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these programs, which are not installed: ${missing[*]}" >&2
  echo "On Debian or Ubuntu: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian's ${missing[*]} for the tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
