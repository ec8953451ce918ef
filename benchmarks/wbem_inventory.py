# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostsec.mgmt.wbem inventory plugin: time, peak memory and requests of one listing.

Starts ``--servers`` test CIMOMs (tests/harness, HTTPS with Basic auth on 127.0.0.1) and a
socket that accepts connections and never answers, writes an inventory source with one
endpoint per server and the silent one (its own ``timeout``), and runs
``ansible-inventory --list`` on it under ``/usr/bin/time``. Prints the wall time and peak RSS
of ansible-inventory, the requests each server received and the error of the silent endpoint.

Usage: python benchmarks/wbem_inventory.py [--servers 3] [--max-workers 8] [--silent-timeout 2]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--servers', type=int, default=3)
    parser.add_argument('--max-workers', type=int, default=8)
    parser.add_argument('--silent-timeout', type=float, default=2.0)
    args = parser.parse_args()
    paths.sync_collection()
    workdir = tempfile.mkdtemp(prefix='wbem-inventory-', dir=paths.BUILD)
    password = 'bench-' + os.urandom(6).hex()
    services = [WbemService(os.path.join(workdir, 'server%d' % index), password=password,
                            http=False, bulk=1) for index in range(args.servers)]
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    started = []
    try:
        for service in services:
            service.start()
            started.append(service)
        silent.bind(('127.0.0.1', 0))
        silent.listen(8)
        endpoints = [{'url': service.https_url, 'name': 'cimom%d' % index,
                      'ca_certs': service.ca_file} for index, service in enumerate(services)]
        endpoints.append({'url': 'https://127.0.0.1:%d' % silent.getsockname()[1],
                          'name': 'silent', 'timeout': args.silent_timeout})
        source = os.path.join(workdir, 'bench.wbem.yml')
        with open(source, 'w') as handle:
            yaml.safe_dump({'plugin': 'hostsec.mgmt.wbem', 'username': services[0].username,
                            'password': password, 'max_workers': args.max_workers,
                            'endpoints': endpoints}, handle)
        started_at = time.monotonic()
        proc = subprocess.run(['/usr/bin/time', '-f', 'peak_rss_kib=%M',
                               paths.tool('ansible-inventory'), '-i', source, '--list'],
                              env=ansible.environment(), capture_output=True, text=True,
                              check=False)
        wall = time.monotonic() - started_at
        hostvars = json.loads(proc.stdout)['_meta']['hostvars']
        print('ansible-inventory: %.1f s wall, %s' % (wall, proc.stderr.strip().splitlines()[-1]))
        print('hosts: %d, reachable: %d' % (len(hostvars), sum(
            1 for facts in hostvars.values() if facts.get('wbem_reachable') is True)))
        print('requests per server: %s' % [service.count() for service in services])
        print('silent endpoint: %s' % json.dumps(hostvars['silent'].get('wbem_error')))
    finally:
        silent.close()
        for service in started:
            service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
