# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_keytab: wall time and peak RSS of one module process per run (no Ansible overhead).

Runs the module as ``python -m`` with ANSIBLE_MODULE_ARGS against a throwaway realm with
kadmind (tests/harness/services/krb5.py, with_kadmind): fetch, no change (with and without the
GSSAPI verification), rotate, a wrong admin password (time to the error) and absent. Peak RSS
comes from ``/usr/bin/time -f %M`` (KiB, the module's Python process; kadmin is a child and
not counted). Usage: python benchmarks/krb5_keytab.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.krb5 import ADMIN_PASSWORD, Krb5Service  # noqa: E402  pylint: disable=wrong-import-position


def main():
    paths.sync_collection()
    workdir = tempfile.mkdtemp(prefix='hostsec-bench-keytab-')
    with Krb5Service(os.path.join(workdir, 'svc'), with_kadmind=True) as kdc:
        kdc.kadmin('addprinc -randkey HTTP/m.hostsec.test')
        admin = kdc.kadmin_vars()
        base = {'kadmin_principal': admin['krb5_admin_principal'],
                'kadmin_server': admin['krb5_admin_server'], 'krb5_config': kdc.krb5_conf,
                'path': os.path.join(workdir, 'm.keytab'), 'principals': ['HTTP/m.hostsec.test']}

        def run(label, args, password=ADMIN_PASSWORD):
            path = os.path.join(workdir, 'args.json')
            with open(path, 'w') as handle:
                json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
            env = dict(kdc.client_env(), PYTHONPATH=paths.COLLECTIONS,
                       HOSTSEC_KRB5_KADMIN_PASSWORD=password)
            start = time.monotonic()
            proc = subprocess.run(['/usr/bin/time', '-f', '%M', sys.executable, '-m',
                                   'ansible_collections.hostsec.mgmt.plugins.modules.krb5_keytab',
                                   path], env=env, capture_output=True, text=True, check=False)
            elapsed = time.monotonic() - start
            out = json.loads(proc.stdout)
            print('%-26s %.2fs peak_rss=%sKiB changed=%s failed=%s %s' % (
                label, elapsed, proc.stderr.strip().splitlines()[-1], out.get('changed'),
                out.get('failed', False), (out.get('error') or {}).get('name') or ''))

        run('fetch', base)
        run('no change (verify)', base)
        run('no change, verify=false', dict(base, verify=False))
        run('rotate', dict(base, rotate=True))
        run('wrong admin password', base, password='wrong-pw')
        run('absent', dict(base, state='absent'))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
