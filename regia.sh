#!/usr/bin/env bash
# Regia's bootstrap: `./regia.sh <command>` on a machine with nothing but Python 3.11+.
# (Not `./regia`: that name is the Python package's directory at the repository root.)
#
# Creates .venv beside this script if it is missing, (re)installs the six packages and the
# CLI in editable mode only when a pyproject.toml changed (a stamp holds their hash), then
# hands over to the `regia` command in the venv. Silent when there is nothing to do.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.regia-install-stamp"
INSTALL_LOG="$VENV/regia-install.log"
PACKAGES=(-e shared -e services/funding -e services/objectives -e services/partners
          -e services/notifier -e console -e '.[test]')

say() { printf 'regia: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    # Run it, not just find it: a pyenv shim exists even for a version that is not installed.
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

as_root_with_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

create_venv() {
  local python version
  python="$(find_python)" ||
    die "Python 3.11 or newer is needed (looked for python3.13, python3.12, python3.11, python3)"
  rm -rf "$VENV"
  "$python" -m venv "$VENV" >/dev/null 2>&1 && return 0
  # Debian and Ubuntu ship venv apart from Python: install it where we may, else say how.
  version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  as_root_with_apt ||
    die "'$python -m venv' failed: install python$version-venv (apt-get install python$version-venv)"
  say "installing python$version-venv"
  apt-get update -qq >/dev/null
  apt-get install -y -qq "python$version-venv" >/dev/null 2>&1 || apt-get install -y -qq python3-venv >/dev/null
  rm -rf "$VENV"
  "$python" -m venv "$VENV" || die "could not create $VENV with $python"
}

install_stamp() {
  # Everything that decides what gets installed: the package list, every pyproject.toml, the
  # venv's Python, and which packages exist (an editable install maps only the packages
  # present when it ran, so a service's first __init__.py needs a reinstall).
  { printf '%s\n' "${PACKAGES[@]}"
    cat "$ROOT/pyproject.toml" "$ROOT/shared/pyproject.toml" "$ROOT"/services/*/pyproject.toml \
        "$ROOT/console/pyproject.toml"
    "$VENV/bin/python" --version
    ls -d "$ROOT"/regia/__init__.py "$ROOT"/shared/*/__init__.py "$ROOT"/services/*/*/__init__.py \
          "$ROOT"/console/*/__init__.py 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}

install_packages() {
  say "installing Regia and its dependencies into .venv (the first time takes a minute or two)"
  if ! (cd "$ROOT" && "$VENV/bin/python" -m pip install --disable-pip-version-check -q \
          "${PACKAGES[@]}") >"$INSTALL_LOG" 2>&1; then
    tail -n 30 "$INSTALL_LOG" >&2
    die "installation failed; the full log is $INSTALL_LOG"
  fi
}

ensure_test_tools() {
  # System tools some tests drive: promtool (tests/unit/test_deploy_*: Prometheus config,
  # alert rules and their unit tests, dashboard queries) and Chromium with its driver (the
  # console tests). Whatever is missing is installed in one apt-get run; when everything is
  # present this costs three `command -v`. Without root or apt-get nothing is installed: the
  # tests that need a tool skip locally and fail under CI=true, each naming what to install.
  local missing=()
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! as_root_with_apt; then
    say "some tests need: apt-get install ${missing[*]} (they skip without it, or fail under CI=true)"
    return 0
  fi
  say "installing ${missing[*]} for the tests"
  # The prometheus package would start a Prometheus server from its maintainer scripts; we
  # only want promtool. A policy-rc.d answering 101 ("action forbidden") stops invoke-rc.d
  # from starting any service; one already present (Docker images ship it) is left alone.
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
  fi
  # apt's chatter (debconf notices included) goes to a log, shown only if something fails.
  local status=0 log="$VENV/regia-apt.log"
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >"$log" 2>&1 || status=$?
  [ -n "$ours" ] && rm -f "$policy"
  # With systemd as init, deb-systemd-invoke may ignore policy-rc.d: stop what started.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 &&
     [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
  fi
  if [ "$status" -ne 0 ]; then
    tail -n 20 "$log" >&2
    say "apt-get could not install ${missing[*]} (exit $status; the full log is $log)"
  fi
}

if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
  create_venv
fi
stamp="$(install_stamp)"
if [ ! -x "$VENV/bin/regia" ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$stamp" ]; then
  install_packages
  printf '%s\n' "$stamp" >"$STAMP"
fi
if [ "${1:-}" = test ]; then
  ensure_test_tools
fi
exec "$VENV/bin/regia" "$@"
