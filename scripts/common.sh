# Shared shell functions for the acceptance-world scripts. Source it; do not run it.
# Every path is derived from the checkout so two checkouts on one machine never share state.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools"
RUN_DIR="$ROOT/.run"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Prints a TCP port that was free on 127.0.0.1 a moment ago. The kernel picks it (bind to
# port 0), so concurrent checkouts get different ports; the tiny window until the server
# binds it is accepted.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# True when the pid in FILE names a live process whose command line contains MARKER. The
# marker check keeps a recycled pid (or another checkout's process) from being mistaken for ours.
pid_alive() {
    local file="$1" marker="$2" pid
    [[ -s "$file" ]] || return 1
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# Prints a random alphanumeric secret of N characters (alphanumeric: safe inside SQL and env files).
random_secret() {
    python3 -c 'import secrets, string, sys; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

# Polls COMMAND... every 0.1 s until it succeeds or SECONDS_LIMIT pass.
wait_until() {
    local limit="$1"; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then return 1; fi
        sleep 0.1
    done
}

# Polls COMMAND... until it succeeds (0), process PID exits (2) or SECONDS_LIMIT pass (1).
# A server that died at start-up (e.g. its port was taken meanwhile) is reported at once.
wait_ready() {
    local pid="$1" limit="$2"; shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || return 2
        if ((SECONDS >= deadline)); then return 1; fi
        sleep 0.1
    done
}

# Stops the process recorded in FILE (if it is still ours), waiting for it to exit.
stop_pidfile() {
    local file="$1" marker="$2" name="$3" pid
    if pid_alive "$file" "$marker"; then
        pid="$(cat "$file")"
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_until 30 bash -c "! kill -0 $pid"; then
            log "$name did not exit after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_until 10 bash -c "! kill -0 $pid" || die "$name (pid $pid) would not stop"
        fi
    fi
    rm -f "$file"
}

# Runs apt-get install for the named Debian packages, updating the index once first.
apt_install() {
    local sudo=""
    if [[ $EUID -ne 0 ]]; then sudo="sudo"; fi
    log "installing Debian packages: $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Prints the workspace's version (Cargo.toml's [workspace.package]): what the binary reports,
# what `make release` packages and what the local mirrors offer.
workspace_version() {
    sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml"
}

# Lays out DIR/mirror holding the provider binary PROVIDER_BIN at VERSION and DIR/terraformrc
# installing it from there, with the same code the acceptance harness uses
# (tfplugin-testing's LocalMirror, through its tfplugin-mirror binary); extra arguments go to
# it (--registry-for-others). Prints the CLI configuration's path.
local_mirror() {
    local dir="$1"; shift
    local bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tfplugin-mirror"
    [[ -x "$bin" ]] || die "$bin missing: run 'make build'"
    "$bin" --dir "$dir" --source registry.terraform.io/treeherder/treeherder \
        --binary "$PROVIDER_BIN" --version "$VERSION" "$@"
}
