#!/usr/bin/env bash
# Install the PostgreSQL and MariaDB server binaries the real-server tests need (Debian/Ubuntu, as root).
#
# The tests start their own throwaway servers on free ports (tests/servers.py), so the system services
# are not started here: a policy-rc.d keeps the packages' post-install scripts from launching them.
# Safe to run again: it does nothing when both servers are already installed.
set -euo pipefail

have_postgres() { command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
have_mariadb() {
    { command -v mariadbd || command -v mysqld || test -x /usr/sbin/mariadbd; } >/dev/null 2>&1 &&
        { command -v mariadb-install-db || command -v mysql_install_db; } >/dev/null 2>&1
}

if have_postgres && have_mariadb; then
    echo "install-servers: PostgreSQL and MariaDB already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-servers: must run as root (try: sudo $0)" >&2
    exit 1
fi

packages=()
have_postgres || packages+=(postgresql)
have_mariadb || packages+=(mariadb-server)

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
fi
cleanup() { if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-servers: installing ${packages[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${packages[@]}" >/dev/null

# Services that a systemd host started despite the policy are not needed by the tests; only the ones
# this run installed are stopped, never a server that was already there.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for pkg in "${packages[@]}"; do
        case "$pkg" in
            postgresql) systemctl disable --now postgresql >/dev/null 2>&1 || true ;;
            mariadb-server) systemctl disable --now mariadb >/dev/null 2>&1 || true ;;
        esac
    done
fi

have_postgres || { echo "install-servers: initdb not found after install" >&2; exit 1; }
have_mariadb || { echo "install-servers: mariadbd not found after install" >&2; exit 1; }
echo "install-servers: done ($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1), $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version))"
