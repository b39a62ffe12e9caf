#!/bin/sh
# Installs oxmon from a release: the agent and/or the server as a service.
#
#   curl -fsSL https://github.com/oxmon/oxmon/releases/latest/download/install.sh | sudo sh -s -- --agent
#   sudo sh install.sh --server                     # the server (Linux)
#   sudo sh install.sh --agent --endpoint http://monitor.example.com:9090
#   sudo sh install.sh --agent --from ./release/    # offline: a folder holding the release assets
#   sudo sh install.sh --uninstall [--purge]        # --purge also deletes config and data
#
# Downloads the executable for this OS and architecture and SHA256SUMS, verifies the checksum,
# installs /usr/local/bin/oxmon-agent and/or oxmon-server, creates the system user "oxmon",
# writes /etc/oxmon/<program>.toml from the example unless it exists (a config is never
# overwritten), and installs, enables and starts the systemd unit (launchd on macOS, agent only).
# Run it again to upgrade: executables and units are replaced, configs and data are kept.
#
# --root DIR lays everything out below DIR instead, without users, systemctl or launchctl
# (for packaging, and for the tests); --os and --arch choose another platform's files there.
set -eu

REPO="${OXMON_REPO:-oxmon/oxmon}"
VERSION="latest"
ROOT=""
FROM=""
ENDPOINT=""
WANT_AGENT=0
WANT_SERVER=0
UNINSTALL=0
PURGE=0
START=1
OS=""
ARCH=""
WORK=""

say() { printf 'oxmon: %s\n' "$*"; }
die() {
  printf 'oxmon: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  sed -n '2,19s/^# \{0,1\}//p' "$0" 2>/dev/null || true
  cat <<'EOF'
Options:
  --agent, --server     what to install (default: --agent)
  --version vX.Y.Z      release to install (default: the latest)
  --from PATH           use release assets from this folder (or the folder of this file)
  --endpoint URL        server_endpoint written into a new agent config
  --uninstall           remove executables and units; keep config and data
  --purge               with --uninstall: also remove /etc/oxmon, /var/lib/oxmon, user oxmon
  --no-start            install and enable, but do not start or restart
  --root DIR            lay files out below DIR; no users, no service manager
  --os linux|darwin, --arch x64|arm64   platform of the files (default: this machine)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --agent) WANT_AGENT=1 ;;
    --server) WANT_SERVER=1 ;;
    --version) VERSION="${2:?--version needs a value}"; shift ;;
    --from) FROM="${2:?--from needs a path}"; shift ;;
    --endpoint) ENDPOINT="${2:?--endpoint needs a URL}"; shift ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --no-start) START=0 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --os) OS="${2:?--os needs a value}"; shift ;;
    --arch) ARCH="${2:?--arch needs a value}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done
if [ "$WANT_AGENT" = 0 ] && [ "$WANT_SERVER" = 0 ]; then
  if [ "$UNINSTALL" = 1 ]; then WANT_AGENT=1; WANT_SERVER=1; else WANT_AGENT=1; fi
fi
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge goes with --uninstall"

# ---- Platform -------------------------------------------------------------------------------
[ -n "$OS" ] || OS=$(uname -s)
case "$OS" in
  Linux | linux) OS=linux ;;
  Darwin | darwin | macos) OS=darwin ;;
  *) die "unsupported OS: $OS (oxmon installs as a service on Linux and macOS)" ;;
esac
[ -n "$ARCH" ] || ARCH=$(uname -m)
case "$ARCH" in
  x86_64 | amd64 | x64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) die "unsupported architecture: $ARCH (release builds exist for x64 and arm64)" ;;
esac
if [ "$OS" = linux ]; then TARGET="linux-$ARCH"; else TARGET="macos-$ARCH"; fi
if [ "$OS" = darwin ] && [ "$WANT_SERVER" = 1 ] && [ "$UNINSTALL" = 0 ]; then
  say "note: on macOS the server is installed as a program only, not as a service"
fi

if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
elif [ "$(id -u)" != 0 ]; then
  die "run as root (sudo sh install.sh ...), or give --root DIR"
fi
BIN="$ROOT/usr/local/bin"
ETC="$ROOT/etc/oxmon"
DATA="$ROOT/var/lib/oxmon"
UNITS="$ROOT/etc/systemd/system"
DAEMONS="$ROOT/Library/LaunchDaemons"
PLIST="$DAEMONS/oxmon.agent.plist"
managed() { [ -z "$ROOT" ]; }

# ---- Uninstall ------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  for program in agent server; do
    if [ "$program" = agent ] && [ "$WANT_AGENT" = 0 ]; then continue; fi
    if [ "$program" = server ] && [ "$WANT_SERVER" = 0 ]; then continue; fi
    if [ "$OS" = linux ]; then
      unit="oxmon-$program.service"
      if managed && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
      fi
      rm -f "$UNITS/$unit"
    elif [ "$program" = agent ]; then
      if managed; then launchctl bootout system "$PLIST" >/dev/null 2>&1 || true; fi
      rm -f "$PLIST"
    fi
    rm -f "$BIN/oxmon-$program"
    say "removed oxmon-$program"
  done
  if managed && [ "$OS" = linux ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || true
  fi
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$DATA" "$ROOT/var/lib/private/oxmon"
    if managed && [ "$OS" = linux ] && id oxmon >/dev/null 2>&1; then
      userdel oxmon >/dev/null 2>&1 || true
    fi
    say "purged /etc/oxmon and /var/lib/oxmon"
  else
    say "kept /etc/oxmon and /var/lib/oxmon (remove them with --uninstall --purge)"
  fi
  exit 0
fi

# ---- Release assets -------------------------------------------------------------------------
cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT INT TERM
WORK=$(mktemp -d)

if [ -n "$FROM" ]; then
  if [ -d "$FROM" ]; then SOURCE="$FROM"; else SOURCE=$(dirname "$FROM"); fi
  [ -f "$SOURCE/SHA256SUMS" ] || die "$SOURCE/SHA256SUMS not found: --from needs the release's SHA256SUMS beside the assets"
  say "using release assets in $SOURCE"
else
  if [ "$VERSION" = latest ]; then
    BASE="https://github.com/$REPO/releases/latest/download"
  else
    BASE="https://github.com/$REPO/releases/download/$VERSION"
  fi
  SOURCE="$WORK/download"
  mkdir -p "$SOURCE"
  say "downloading from $BASE"
fi

# fetch NAME: the asset's path in $SOURCE, downloaded first if need be.
fetch() {
  if [ -z "$FROM" ] && [ ! -f "$SOURCE/$1" ]; then
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL --retry 3 -o "$SOURCE/$1" "$BASE/$1" || die "cannot download $BASE/$1"
    elif command -v wget >/dev/null 2>&1; then
      wget -q -O "$SOURCE/$1" "$BASE/$1" || die "cannot download $BASE/$1"
    else
      die "neither curl nor wget is installed; download the assets and use --from"
    fi
  fi
  [ -f "$SOURCE/$1" ] || die "$SOURCE/$1 not found"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is installed"
  fi
}

# verify NAME: its SHA-256 must be the one SHA256SUMS lists for NAME.
verify() {
  expected=$(awk -v name="$1" '$2 == name || $2 == "*" name { print $1; exit }' "$SOURCE/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS lists no checksum for $1"
  actual=$(sha256 "$SOURCE/$1")
  [ "$expected" = "$actual" ] || die "checksum mismatch for $1: expected $expected, got $actual (nothing was installed)"
}

fetch SHA256SUMS
# Everything is fetched and verified before anything is installed.
NEEDED=""
for program in agent server; do
  if [ "$program" = agent ] && [ "$WANT_AGENT" = 0 ]; then continue; fi
  if [ "$program" = server ] && [ "$WANT_SERVER" = 0 ]; then continue; fi
  NEEDED="$NEEDED oxmon-$program-$TARGET $program.example.toml"
  if [ "$OS" = linux ]; then
    NEEDED="$NEEDED oxmon-$program.service"
  elif [ "$program" = agent ]; then
    NEEDED="$NEEDED oxmon.agent.plist"
  fi
done
for name in $NEEDED; do
  fetch "$name"
  verify "$name"
done
say "checksums verified:$NEEDED"

# ---- Install --------------------------------------------------------------------------------
if [ "$OS" = linux ]; then GROUP=oxmon; else GROUP=nobody; fi
if managed && [ "$OS" = linux ] && ! id oxmon >/dev/null 2>&1; then
  if command -v useradd >/dev/null 2>&1; then
    nologin=$(command -v nologin || echo /bin/false)
    useradd --system --user-group --no-create-home --home-dir /var/lib/oxmon \
      --shell "$nologin" oxmon
  else
    addgroup -S oxmon 2>/dev/null || true
    adduser -S -D -H -h /var/lib/oxmon -s /sbin/nologin -G oxmon oxmon
  fi
  say "created system user oxmon"
fi

mkdir -p "$BIN" "$ETC"
chmod 0755 "$ETC"
DONE=""
for program in agent server; do
  if [ "$program" = agent ] && [ "$WANT_AGENT" = 0 ]; then continue; fi
  if [ "$program" = server ] && [ "$WANT_SERVER" = 0 ]; then continue; fi

  # Replace the executable in one rename: a running service keeps the old file until restarted.
  cp "$SOURCE/oxmon-$program-$TARGET" "$BIN/.oxmon-$program.new"
  chmod 0755 "$BIN/.oxmon-$program.new"
  mv -f "$BIN/.oxmon-$program.new" "$BIN/oxmon-$program"
  DONE="$DONE\n  $BIN/oxmon-$program"

  config="$ETC/$program.toml"
  if [ -e "$config" ]; then
    DONE="$DONE\n  $config (kept as it was)"
  else
    if [ "$program" = server ]; then
      sed 's#^data_dir = .*#data_dir = "/var/lib/oxmon"#' "$SOURCE/server.example.toml" >"$config.new"
    elif [ -n "$ENDPOINT" ]; then
      sed "s#^server_endpoint = .*#server_endpoint = \"$ENDPOINT\"#" "$SOURCE/agent.example.toml" >"$config.new"
    else
      cp "$SOURCE/agent.example.toml" "$config.new"
    fi
    # It may hold tokens and passwords: readable by root and the service only.
    chmod 0640 "$config.new"
    if managed; then chgrp "$GROUP" "$config.new"; fi
    mv "$config.new" "$config"
    DONE="$DONE\n  $config (new, from the example)"
  fi

  if [ "$OS" = linux ]; then
    mkdir -p "$UNITS"
    cp "$SOURCE/oxmon-$program.service" "$UNITS/oxmon-$program.service"
    chmod 0644 "$UNITS/oxmon-$program.service"
    DONE="$DONE\n  $UNITS/oxmon-$program.service"
  elif [ "$program" = agent ]; then
    mkdir -p "$DAEMONS" "$ROOT/var/log"
    cp "$SOURCE/oxmon.agent.plist" "$PLIST"
    chmod 0644 "$PLIST"
    : >>"$ROOT/var/log/oxmon-agent.log"
    if managed; then chown nobody "$ROOT/var/log/oxmon-agent.log"; fi
    DONE="$DONE\n  $PLIST"
  fi
done

# ---- Services -------------------------------------------------------------------------------
CHECK=""
if [ "$OS" = linux ]; then
  for program in agent server; do
    if [ "$program" = agent ] && [ "$WANT_AGENT" = 0 ]; then continue; fi
    if [ "$program" = server ] && [ "$WANT_SERVER" = 0 ]; then continue; fi
    unit="oxmon-$program.service"
    CHECK="$CHECK\n  systemctl status $unit\n  journalctl -u $unit -f"
    if managed; then
      systemctl daemon-reload
      systemctl enable "$unit" >/dev/null 2>&1
      if [ "$START" = 1 ]; then systemctl restart "$unit"; fi
    fi
  done
elif [ "$WANT_AGENT" = 1 ]; then
  CHECK="$CHECK\n  sudo launchctl print system/oxmon.agent\n  tail -f /var/log/oxmon-agent.log"
  if managed && [ "$START" = 1 ]; then
    launchctl bootout system "$PLIST" >/dev/null 2>&1 || true
    launchctl bootstrap system "$PLIST"
  fi
fi

say "installed:$(printf '%b' "$DONE")"
if ! managed; then
  say "laid out below $ROOT; no user was created and no service started"
elif [ "$START" = 0 ]; then
  say "services enabled, not started (--no-start)"
else
  say "services started"
fi
printf 'oxmon: check with:%b\n' "$CHECK"
if [ "$WANT_SERVER" = 1 ]; then
  say "dashboard: http://localhost:8080/ on this host (agents report to port 9090); add"
  say "[[api_tokens]] to $ETC/server.toml to serve it to other hosts (README: Security)"
fi
if [ "$WANT_AGENT" = 1 ] && [ -z "$ENDPOINT" ]; then
  say "the agent reports to server_endpoint in $ETC/agent.toml (default http://127.0.0.1:9090)"
fi
