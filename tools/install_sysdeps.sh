#!/bin/sh
# Install the system packages of bindep.txt (one profile: "test" by default, or "lint") that
# are missing.
# Usage: tools/install_sysdeps.sh PATH_TO_BINDEP [PROFILE]
set -eu
bindep=${1:-bindep}
profile=${2:-test}
cd "$(dirname "$0")/.."
missing=$("$bindep" -b -f bindep.txt "$profile" | tr '\n' ' ' || true)
if [ -z "${missing% }" ]; then
    exit 0
fi
echo "installing system packages: $missing"
if [ "$(id -u)" != 0 ]; then
    echo "error: these packages are missing and installing them needs root: $missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Do not start daemons from package scripts: the tests start their own services.
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
fi
trap 'if [ -n "$created_policy" ]; then rm -f "$policy"; fi' EXIT
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
still=$("$bindep" -b -f bindep.txt "$profile" | tr '\n' ' ' || true)
if [ -n "${still% }" ]; then
    echo "error: still missing after apt-get install: $still" >&2
    exit 1
fi
