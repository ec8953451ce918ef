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
# Build offline: no intersphinx inventories from docs.python.org / docs.ansible.com, so the
# generated references to labels of the Ansible docs (common_return_values ...) cannot resolve.
# Our own references are checked by `antsibull-docs lint-collection-docs` in `make test`.
cat >> "$work/conf.py" <<'CONF'

intersphinx_mapping = {}
suppress_warnings = ['ref.ref']
CONF
antsibull-docs collection --use-current --dest-dir "$work/rst" --fail-on-error hostsec.mgmt
sphinx-build -M html "$work/rst" "$work/build" -c "$work" -W --keep-going
rm -rf "$out"
mkdir -p "$out"
cp -a "$work/build/html" "$out/html"
echo "docs: $out/html/index.html"
