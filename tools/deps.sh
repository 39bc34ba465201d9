#!/bin/sh
# tools/deps.sh - make sure the Debian packages this project needs are present.
# As root it installs what is missing (apt-get); otherwise it prints the exact
# command to run and fails.  Called by every make target that builds or runs.
set -eu
PKGS="gcc make pkg-config libsqlite3-dev libcjson-dev libyaml-dev sqlite3 gnuplot-nox"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        # gnuplot-nox is satisfied by any full gnuplot
        if [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null 2>&1; then continue; fi
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >&2
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run:  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
