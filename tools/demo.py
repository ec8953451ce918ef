# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: start the embedded local services, make localhost a grid node twice, stop them.

tools/demo_playbooks/demo.yml applies the role hostsec.mgmt.grid_node to localhost (Kerberos,
MyProxy, PAM and WBEM against the embedded services); it runs twice and the second run must
report changed=0 on every host: the demo fails otherwise. A few ad-hoc calls then read back
what the node got, and a short summary is printed. Services are started in build/demo/ and
stopped (by the PIDs the demo started) whatever happens.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services import demo_services  # noqa: E402  pylint: disable=wrong-import-position

# The ad-hoc calls that read back what the node got. The arguments are templates: the values
# (passwords included) come from the 0600 vars file, never from the command line.
ADHOC = [
    ('ticket', 'hostsec.mgmt.krb5_ticket_info',
     '{"ccache": "FILE:{{ demo_node_dir }}/krb5cc", "krb5_config": "{{ demo_node_dir }}/krb5.conf"}',
     {}, False),
    ('proxy', 'hostsec.mgmt.myproxy_logon',
     '{"server": "{{ myproxy_server }}", "port": "{{ myproxy_port }}",'
     ' "ca_dir": "{{ demo_node_dir }}/certificates", "username": "{{ demo_myproxy_username }}",'
     ' "passphrase": "{{ demo_myproxy_passphrase }}", "dest": "{{ demo_node_dir }}/x509up",'
     ' "min_lifetime": "4h"}',
     {}, True),
    ('stored', 'hostsec.mgmt.myproxy_info',
     '{"server": "{{ myproxy_server }}", "port": "{{ myproxy_port }}",'
     ' "ca_dir": "{{ demo_node_dir }}/certificates", "username": "{{ demo_myproxy_username }}",'
     ' "client_proxy": "{{ demo_node_dir }}/x509up"}',
     {}, False),
    ('pam_alice', 'hostsec.mgmt.pam_check',
     '{"service": "hostsec-matrix", "user": "alice",'
     ' "password": "{{ pam_matrix_users.alice.password }}", "fail_on_mismatch": false}',
     'pam', False),
    ('pam_carol', 'hostsec.mgmt.pam_check',
     '{"service": "hostsec-matrix", "user": "carol", "expect": "PAM_PERM_DENIED",'
     ' "password": "{{ pam_matrix_users.carol.password }}", "fail_on_mismatch": false}',
     'pam', False),
    ('subscriptions', 'hostsec.mgmt.wbem_info',
     '{"server": "{{ wbem_server_url }}", "username": "{{ wbem_username }}",'
     ' "password": "{{ wbem_password }}", "ca_certs": "{{ wbem_ca_certs }}",'
     ' "namespace": "{{ wbem_interop_namespace }}", "class_name": "CIM_IndicationSubscription"}',
     {}, False),
]


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


def read_back(extra_vars, collections_path):
    """Run the ad-hoc calls of :data:`ADHOC`; return {label: result}."""
    results = {}
    for label, module, args, env, check in ADHOC:
        command = 'ansible localhost -m %s%s' % (module, ' --check' if check else '')
        print('ad-hoc: %s' % command, flush=True)
        env = dict(extra_vars['pam_wrapper_environment']) if env == 'pam' else {}
        env['ANSIBLE_COLLECTIONS_PATH'] = collections_path
        run = ansible.run_adhoc(module, args, extra_vars=extra_vars, env=env, check=check)
        if run.rc != 0 or not run.results:
            raise RuntimeError('%s failed:\n%s' % (command, run.explain()))
        results[label] = run.results[-1]['result']
    return results


def summary_lines(extra_vars, got):
    """What was provisioned, from the ad-hoc results."""
    ticket, proxy, stored = got['ticket'], got['proxy'], got['stored']
    subscriptions = sorted(
        i['properties']['Filter']['keybindings']['Name'] for i in got['subscriptions']['instances'])
    return [
        'Kerberos  realm %s, ticket of %s in %s, valid until %s%s'
        % (extra_vars['krb5_realm'], ticket['principal'], ticket['ccache'], ticket['tgt']['end'],
           ', renewable until %s' % ticket['tgt']['renew_till']
           if ticket['tgt'].get('renew_till') else ''),
        'MyProxy   proxy %s (%s), valid until %s (%s); stored credential ends %s'
        % (proxy['subject'], proxy['proxy_type'], proxy['not_after'], proxy['reason'],
           stored['credentials'][0]['end_time'] if stored['credentials'] else 'none'),
        'PAM       alice@hostsec-matrix: %s (expected success, %s); carol: %s (expected '
        'PAM_PERM_DENIED, %s)'
        % (got['pam_alice']['outcome'], 'ok' if got['pam_alice']['matched'] else 'MISMATCH',
           got['pam_carol']['outcome'], 'ok' if got['pam_carol']['matched'] else 'MISMATCH'),
        'WBEM      subscriptions on %s: %s' % (extra_vars['wbem_server_url'],
                                               ', '.join(subscriptions)),
    ]


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
    node_dir = os.path.join(workdir, 'node')
    os.makedirs(node_dir, mode=0o700)
    extra_vars = {'demo_workdir': workdir, 'demo_node_dir': node_dir,
                  'demo_myproxy_username': 'demo-node',
                  'demo_myproxy_passphrase': 'demo-node-Passphrase-1'}
    with contextlib.ExitStack() as stack:
        for service_class in demo_services():
            print('starting %s service' % service_class.name, flush=True)
            service = stack.enter_context(
                service_class(os.path.join(workdir, service_class.name)))
            extra_vars.update(service.ansible_vars())
        vars_file = os.path.join(workdir, 'demo-vars.json')
        fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(extra_vars, handle, indent=2)
        first = run_playbook(vars_file, 'first run', args.collections_path)
        if first.rc != 0:
            print('demo: the first run failed (rc=%d)' % first.rc)
            return 1
        second = run_playbook(vars_file, 'second run (must change nothing)',
                              args.collections_path)
        if second.rc != 0:
            print('demo: the second run failed (rc=%d)' % second.rc)
            return 1
        print('\n===== read back with ad-hoc calls =====', flush=True)
        got = read_back(extra_vars, args.collections_path)
        changed = {host: counts['changed'] for host, counts in second.recap.items()}
        print('\n===== summary =====')
        for label, run in (('first run', first), ('second run', second)):
            for host, counts in sorted(run.recap.items()):
                print('%-11s %s: ok=%d changed=%d failed=%d' % (
                    label, host, counts['ok'], counts['changed'], counts['failed']))
        print('\n'.join(summary_lines(extra_vars, got)))
        if not changed or any(changed.values()):
            print('demo: FAILED, the second run changed something: %s' % changed)
            return 1
        if got['proxy']['changed'] or not (got['pam_alice']['matched'] and got['pam_carol']['matched']):
            print('demo: FAILED, the read-back does not show what the role provisioned')
            return 1
        print('demo: OK, localhost is a grid node and the second run reports changed=0')
        print('stopping services', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
