#!/usr/bin/env bash
# The engine layer's Docker daemon and Debian bases (test/engine): a dockerd of our own,
# with its own data root, socket, exec root and pid file (nothing depends on a daemon
# the machine happens to have), and the Debian base images the stack's Dockerfiles
# build on, made with debootstrap because no image registry can be reached.
#
#   scripts/engine-daemon.sh start   start dockerd, make or reuse the base tarballs; prints
#                                    `export HLPG_DOCKER_HOST=…` and `export HLPG_DEBIAN_BASES=…`
#   scripts/engine-daemon.sh stop    stop that dockerd and remove its data root
#
# Needs root, and Debian's docker.io and debootstrap (.ci/run installs them).
# The base tarballs are cached outside the clone, in $HLPG_CACHE_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/homelab-postgres), one per suite, named by the
# suite, the ISO week they were made in and this script's digest: a tarball from an
# older week, or made by another version of this script, is not used but made anew,
# and one whose recorded sha256 does not match is removed.
set -euo pipefail

run_dir=${HLPG_ENGINE_DIR:-/var/tmp/hlpg-engine}
cache_dir=${HLPG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-postgres}
suites=(bookworm trixie)
sock="$run_dir/docker.sock"

# a daemon that was killed (not stopped) leaves its overlay and netns mounts behind
cleanup_mounts() {
  awk -v d="$run_dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

start() {
  [ "$(id -u)" -eq 0 ] || { echo "engine-daemon.sh: needs root (dockerd, debootstrap)" >&2; exit 1; }
  for bin in dockerd debootstrap; do
    command -v "$bin" >/dev/null || { echo "engine-daemon.sh: $bin missing: apt-get install docker.io debootstrap" >&2; exit 1; }
  done
  mkdir -p "$run_dir" "$cache_dir"
  if [ -S "$sock" ] && [ -f "$run_dir/pid" ] && kill -0 "$(cat "$run_dir/pid")" 2>/dev/null; then
    echo "engine-daemon.sh: dockerd already runs (pid $(cat "$run_dir/pid"))" >&2
  else
    cleanup_mounts
    rm -rf "$run_dir/root" "$run_dir/exec"
    dockerd --data-root "$run_dir/root" --exec-root "$run_dir/exec" --pidfile "$run_dir/pid" \
      --host "unix://$sock" --storage-driver overlay2 >"$run_dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do [ -S "$sock" ] && break; sleep 0.5; done
    [ -S "$sock" ] || { tail -20 "$run_dir/dockerd.log" >&2; echo "engine-daemon.sh: dockerd did not start" >&2; exit 1; }
  fi

  local key week tarballs=() pids=()
  week=$(date -u +%G-W%V)
  key=$(sha256sum "$0" | cut -c1-12)
  for suite in "${suites[@]}"; do
    local tar="$cache_dir/debian-$suite-$week-$key.tar"
    if [ -f "$tar" ] && ! (cd "$cache_dir" && sha256sum --status -c "$tar.sha256" 2>/dev/null); then
      echo "engine-daemon.sh: $tar does not match its checksum: making it anew" >&2
      rm -f "$tar" "$tar.sha256"
    fi
    # tarballs of other weeks or script versions are stale: never used, removed
    find "$cache_dir" -maxdepth 1 -name "debian-$suite-*.tar*" ! -name "$(basename "$tar")*" -delete
    if [ ! -f "$tar" ]; then
      ( dir=$(mktemp -d "$run_dir/debootstrap-$suite.XXXX")
        debootstrap --variant=minbase "$suite" "$dir/root" >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; exit 1; }
        tar -C "$dir/root" -cf "$tar.partial" .
        mv "$tar.partial" "$tar"
        (cd "$cache_dir" && sha256sum "$(basename "$tar")" >"$tar.sha256")
        rm -rf "$dir" "$dir.log" ) &
      pids+=($!)
    fi
    tarballs+=("$suite=$tar")
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "engine-daemon.sh: debootstrap failed" >&2; exit 1; }; done
  echo "export HLPG_DOCKER_HOST=unix://$sock"
  echo "export HLPG_DEBIAN_BASES=$(IFS=,; echo "${tarballs[*]}")"
}

stop() {
  if [ -f "$run_dir/pid" ]; then
    local pid
    pid=$(cat "$run_dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  cleanup_mounts
  rm -rf "$run_dir/root" "$run_dir/exec" "$run_dir/pid" "$sock"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
