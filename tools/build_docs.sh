#!/bin/sh
# Build the collection's HTML documentation with antsibull-docs and Sphinx.
# Usage: tools/build_docs.sh WORK_DIR OUTPUT_DIR   (run by `make docs`)
set -eu
work=$1
out=$2
rm -rf "$work"
mkdir -p "$work/home"
# antsibull logs to ~/antsibull.log: give it a home of its own inside the work directory.
HOME="$work/home"
export HOME
antsibull-docs sphinx-init --use-current --dest-dir "$work" --lenient --fail-on-error hostsec.mgmt
# Build offline: the inventory of the Ansible documentation is made from the labels listed in
# docs/intersphinx/ansible_devel.txt (the only ones the generated pages use), so those links
# point at docs.ansible.com and any other unresolved reference fails the build (-W).
root=$(cd "$(dirname "$0")/.." && pwd)
python3 - "$root/docs/intersphinx/ansible_devel.txt" "$work/ansible_devel.inv" <<'PY'
import sys
import zlib
with open(sys.argv[1]) as handle:
    lines = [line for line in handle if line.strip() and not line.startswith('#')]
header = (b'# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
          b'# The remainder of this file is compressed using zlib.\n')
with open(sys.argv[2], 'wb') as handle:
    handle.write(header + zlib.compress(''.join(lines).encode('utf-8')))
PY
cat >> "$work/conf.py" <<'CONF'

import os.path
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/ansible/devel/',
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ansible_devel.inv')),
}
CONF
antsibull-docs collection --use-current --dest-dir "$work/rst" --fail-on-error hostsec.mgmt
# Our landing page instead of the template's.
cp "$root/docs/index.rst" "$work/rst/index.rst"
sphinx-build -M html "$work/rst" "$work/build" -c "$work" -W --keep-going
rm -rf "$out"
mkdir -p "$out"
cp -a "$work/build/html" "$out/html"
echo "docs: $out/html/index.html"
