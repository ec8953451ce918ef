# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: start the embedded local services, run tools/demo_playbooks/demo.yml twice, stop them.

The second run must report changed=0 on every host: the demo fails otherwise. Services are
started in build/demo/ and stopped (by the PIDs the demo started) whatever happens.
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services import demo_services  # noqa: E402  pylint: disable=wrong-import-position


def run_playbook(extra_vars_file, label, collections_path):
    print('\n===== %s: ansible-playbook tools/demo_playbooks/demo.yml =====' % label, flush=True)
    argv = [paths.tool('ansible-playbook'), '-i', ansible.INVENTORY,
            os.path.join(ROOT, 'tools', 'demo_playbooks', 'demo.yml'), '-e', '@' + extra_vars_file]
    env = ansible.environment({'ANSIBLE_COLLECTIONS_PATH': collections_path})
    env.pop('ANSIBLE_CALLBACKS_ENABLED')
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    proc.wait()
    run = ansible.AnsibleRun(argv, proc.returncode, ''.join(lines), '', [])
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections-path', default=paths.COLLECTIONS,
                        help='where hostsec.mgmt is installed (default: the build mirror)')
    args = parser.parse_args()
    paths.sync_collection()
    print('using hostsec.mgmt from %s' % args.collections_path, flush=True)
    workdir = os.path.join(paths.BUILD, 'demo')
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    extra_vars = {'demo_workdir': workdir}
    with contextlib.ExitStack() as stack:
        for service_class in demo_services():
            print('starting %s service' % service_class.name, flush=True)
            service = stack.enter_context(
                service_class(os.path.join(workdir, service_class.name)))
            extra_vars.update(service.ansible_vars())
        vars_file = os.path.join(workdir, 'demo-vars.json')
        with open(vars_file, 'w') as handle:
            import json  # pylint: disable=import-outside-toplevel
            json.dump(extra_vars, handle, indent=2)
        os.chmod(vars_file, 0o600)
        first = run_playbook(vars_file, 'first run', args.collections_path)
        if first.rc != 0:
            print('demo: the first run failed (rc=%d)' % first.rc)
            return 1
        second = run_playbook(vars_file, 'second run (must change nothing)',
                              args.collections_path)
        if second.rc != 0:
            print('demo: the second run failed (rc=%d)' % second.rc)
            return 1
        changed = {host: counts['changed'] for host, counts in second.recap.items()}
        print('\n===== summary =====')
        for label, run in (('first run', first), ('second run', second)):
            for host, counts in sorted(run.recap.items()):
                print('%-11s %s: ok=%d changed=%d failed=%d' % (
                    label, host, counts['ok'], counts['changed'], counts['failed']))
        if not changed or any(changed.values()):
            print('demo: FAILED, the second run changed something: %s' % changed)
            return 1
        print('demo: OK, the second run reports changed=0')
        print('stopping services', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
