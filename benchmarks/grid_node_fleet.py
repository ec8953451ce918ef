# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role grid_node over a fleet of 100 inventory hosts: first run, no-change run, requests.

The embedded services run on 127.0.0.1 (tests/harness/services): a throwaway MIT realm and
its KDC, Debian's myproxy-server behind a counting TCP proxy (harness.faults.CuttingProxy
without a cut: every MyProxy request is one connection), the test CIMOM with its request log,
and a pam_wrapper service directory. An inventory of 100 hosts (local connection, the
project's virtualenv Python) runs one play applying hostsec.mgmt.grid_node with
``--forks 10``, twice.

What would be global state on a real node is per host here, under the benchmark's temporary
directory ``hosts/<host>/``: krb5.conf (``grid_node_krb5_conf_path``), the host keytab, the
ticket cache, the CA directory and the proxy file. The PAM services are read from the
pam_wrapper service directory (``PAM_WRAPPER_SERVICE_DIR``, read only, the same for every host:
the role never writes PAM configuration). All hosts share one management server (the test
CIMOM); each host has its own subscription owner (``grid_node_wbem_owner: <host>``), hence its
own filter, destination and subscription, as each node's own CIMOM would have. All hosts
share the realm's service keytab (one host principal) and one MyProxy account.

Counted for the no-change run: KDC requests (AS_REQ and TGS_REQ lines the KDC logged),
MyProxy requests (connections through the counting proxy), WBEM requests by operation (the
test CIMOM's request log). Last line:
``grid_node_fleet: hosts=100 first=..s nochange=..s kdc=.. myproxy=.. wbem_getinstance=.. wbem_other=..``

Usage: python benchmarks/grid_node_fleet.py [--hosts 100] [--forks 10]
"""

import argparse
import collections
import contextlib
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.faults import CuttingProxy  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.krb5 import Krb5Service  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.myproxy import MyProxyService  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.pam import PamWrapperService  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position

MYPROXY_USER = 'fleet-node'
MYPROXY_PASSPHRASE = 'fleet-node-Passphrase-1'

PLAY = """
- name: Every host becomes a grid node
  hosts: fleet
  gather_facts: false
  vars:
    node_dir: "{{ fleet_dir }}/hosts/{{ inventory_hostname }}"
  roles:
    - role: hostsec.mgmt.grid_node
      vars:
        grid_node_install_packages: false
        grid_node_krb5_conf_path: "{{ node_dir }}/krb5.conf"
        grid_node_krb5_realm: "{{ krb5_realm }}"
        grid_node_krb5_kdcs: ["{{ krb5_kdc }}"]
        grid_node_krb5_libdefaults:
          kdc_timesync: 0
          udp_preference_limit: 1
          dns_canonicalize_hostname: false
        grid_node_krb5_keytab_src: "{{ krb5_keytabs.service }}"
        grid_node_krb5_keytab_dest: "{{ node_dir }}/krb5.keytab"
        grid_node_krb5_ticket_principal: "{{ krb5_service_principal }}"
        grid_node_krb5_ccache: "FILE:{{ node_dir }}/svc/krb5cc"
        grid_node_myproxy_server: "{{ myproxy_server }}"
        grid_node_myproxy_port: "{{ fleet_myproxy_port }}"
        grid_node_myproxy_ca_dir: "{{ node_dir }}/certificates"
        grid_node_myproxy_trustroots_bootstrap: true
        grid_node_myproxy_username: "{{ fleet_myproxy_username }}"
        grid_node_myproxy_passphrase: "{{ fleet_myproxy_passphrase }}"
        grid_node_myproxy_proxy_path: "{{ node_dir }}/svc/x509up"
        grid_node_pam_services: [hostsec-matrix]
        grid_node_pam_environment: "{{ pam_wrapper_environment }}"
        grid_node_pam_test_account:
          user: alice
          password: "{{ pam_matrix_users.alice.password }}"
        grid_node_pam_locked_account:
          user: carol
          password: "{{ pam_matrix_users.carol.password }}"
          expect: PAM_PERM_DENIED
        grid_node_wbem_server: "{{ wbem_server_url }}"
        grid_node_wbem_username: "{{ wbem_username }}"
        grid_node_wbem_password: "{{ wbem_password }}"
        grid_node_wbem_ca_certs: "{{ wbem_ca_certs }}"
        grid_node_wbem_listener: https://mgmt.example.org:5999/cimlistener
        grid_node_wbem_owner: "{{ inventory_hostname }}"
"""


def write_inventory(directory, hosts):
    path = os.path.join(directory, 'fleet.ini')
    with open(path, 'w') as handle:
        handle.write('[fleet]\n')
        for index in range(hosts):
            name = 'node%03d' % index
            handle.write('%s\n' % name)
            os.makedirs(os.path.join(directory, 'hosts', name), mode=0o700)
        handle.write('\n[fleet:vars]\nansible_connection=local\n'
                     'ansible_python_interpreter=%s\n' % paths.tool('python'))
    return path


def kdc_requests(krb5):
    log = krb5.kdc_log()
    return log.count('AS_REQ'), log.count('TGS_REQ')


def run_play(playbook, inventory, extra_vars, forks):
    start = time.perf_counter()
    run = ansible.run_playbook(playbook, extra_vars=extra_vars, inventory=inventory,
                               args=['--forks', str(forks)], timeout=7200)
    elapsed = time.perf_counter() - start
    if run.rc != 0:
        raise SystemExit('the play failed:\n%s' % run.explain())
    return run, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--forks', type=int, default=10)
    args = parser.parse_args()
    paths.sync_collection()
    directory = tempfile.mkdtemp(prefix='grid-node-fleet-', dir=paths.BUILD)
    try:
        with contextlib.ExitStack() as stack:
            services = [stack.enter_context(cls(os.path.join(directory, cls.name)))
                        for cls in (PamWrapperService, Krb5Service, MyProxyService)]
            wbem = stack.enter_context(WbemService(os.path.join(directory, 'wbem'), bulk=0))
            krb5, myproxy = services[1], services[2]
            counter = stack.enter_context(CuttingProxy(myproxy.port, max_connections=100000))
            extra_vars = {'fleet_dir': directory, 'fleet_myproxy_port': counter.port,
                          'fleet_myproxy_username': MYPROXY_USER,
                          'fleet_myproxy_passphrase': MYPROXY_PASSPHRASE}
            for service in services + [wbem]:
                extra_vars.update(service.ansible_vars())
            alice = myproxy.users['alice']
            stored = ansible.run_adhoc(
                'hostsec.mgmt.myproxy_credential',
                '{"server": "{{ myproxy_server }}", "port": %d, "ca_dir": "{{ myproxy_ca_dir }}",'
                ' "username": "{{ fleet_myproxy_username }}",'
                ' "passphrase": "{{ fleet_myproxy_passphrase }}",'
                ' "client_cert": "%s", "client_key": "%s"}'
                % (myproxy.port, alice['cert'], alice['key_plain']), extra_vars=extra_vars)
            if stored.rc != 0:
                raise SystemExit('storing the fleet credential failed:\n%s' % stored.explain())
            inventory = write_inventory(directory, args.hosts)
            playbook = os.path.join(directory, 'grid_node.yml')
            with open(playbook, 'w') as handle:
                handle.write(PLAY)

            first, first_time = run_play(playbook, inventory, extra_vars, args.forks)
            first_kdc = kdc_requests(krb5)
            first_myproxy = counter.connections
            first_wbem = collections.Counter(wbem.operations())
            wbem.reset_requests()
            print('grid_node_fleet: first run done in %.1f s, the no-change run follows'
                  % first_time, flush=True)

            second, second_time = run_play(playbook, inventory, extra_vars, args.forks)
            second_kdc = tuple(b - a for a, b in zip(first_kdc, kdc_requests(krb5)))
            second_myproxy = counter.connections - first_myproxy
            second_wbem = collections.Counter(wbem.operations())
            changed = sum(counts['changed'] for counts in second.recap.values())
            first_changed = sum(counts['changed'] for counts in first.recap.values())
            failed = sum(counts['failed'] for counts in
                         list(first.recap.values()) + list(second.recap.values()))
            assert len(second.recap) == args.hosts and failed == 0, (second.recap, failed)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    gets = second_wbem.get('GetInstance', 0)
    other = sum(second_wbem.values()) - gets
    print('grid_node_fleet: %d hosts, forks=%d, role hostsec.mgmt.grid_node (4 parts)'
          % (args.hosts, args.forks))
    print('grid_node_fleet: first run %.1f s (changed=%d): KDC AS_REQ=%d TGS_REQ=%d, '
          'MyProxy requests=%d, WBEM %s'
          % (first_time, first_changed, first_kdc[0], first_kdc[1], first_myproxy,
             dict(sorted(first_wbem.items()))))
    print('grid_node_fleet: no-change run %.1f s (changed=%d): KDC AS_REQ=%d TGS_REQ=%d, '
          'MyProxy requests=%d, WBEM %s'
          % (second_time, changed, second_kdc[0], second_kdc[1], second_myproxy,
             dict(sorted(second_wbem.items()))))
    print('grid_node_fleet: hosts=%d first=%.1fs nochange=%.1fs kdc=%d myproxy=%d '
          'wbem_getinstance=%d wbem_other=%d changed=%d'
          % (args.hosts, first_time, second_time, sum(second_kdc), second_myproxy, gets, other,
             changed))
    return 0 if changed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
