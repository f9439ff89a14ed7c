#!/bin/sh
# The image's entry point (under tini): sizes V8's old space to the container's memory limit,
# then execs the command. Node 20 sizes its heap from the host's memory, not the cgroup's: a
# worker in a 2 GiB container on a 64 GiB node would grow its heap past the limit and be
# OOM-killed instead of collecting garbage. CONVOY_V8_HEAP_PERCENT (default 65, the
# V8_HEAP_PERCENT of src/worker/sizing.ts) of the limit goes to the old space; a
# --max-old-space-size already in NODE_OPTIONS is kept. The worker reads the same files (under the
# same CONVOY_CGROUP_ROOT, src/worker/memory-limit.ts) to size its cache and step slots.
set -eu
cgroup="${CONVOY_CGROUP_ROOT:-/sys/fs/cgroup}"
percent="${CONVOY_V8_HEAP_PERCENT:-65}"
case "$percent" in
  '' | *[!0-9]*)
    echo "convoy: CONVOY_V8_HEAP_PERCENT=$percent: expected a percentage from 10 to 95" >&2
    exit 2
    ;;
esac
if [ "$percent" -lt 10 ] || [ "$percent" -gt 95 ]; then
  echo "convoy: CONVOY_V8_HEAP_PERCENT=$percent: expected a percentage from 10 to 95" >&2
  exit 2
fi

limit=""
if [ -r "$cgroup/memory.max" ]; then
  limit=$(cat "$cgroup/memory.max") # cgroup v2
elif [ -r "$cgroup/memory/memory.limit_in_bytes" ]; then
  limit=$(cat "$cgroup/memory/memory.limit_in_bytes") # cgroup v1
fi

case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    # "max" (v2) or a number near 2^63 (v1) means no limit: V8's own default stays.
    case "$limit" in
      '' | max | *[!0-9]*) ;;
      *)
        if [ "${#limit}" -le 15 ]; then
          heap_mb=$((limit / 1048576 * percent / 100))
          NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-old-space-size=$heap_mb"
          export NODE_OPTIONS
        fi
        ;;
    esac
    ;;
esac
exec "$@"
