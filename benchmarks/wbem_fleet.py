# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of 1000 WBEM endpoints, each an inventory host: Ansible + wbem_info against a
pywbemcli shell loop and a threaded pywbem script.

The test CIMOM (tests/harness) serves one HTTPS endpoint per host: one process, one repository,
``--hosts`` listening ports on 127.0.0.1 (``--extra-https-ports``), Basic auth. Each inventory
host has its own ``wbem_url`` host variable (local connection: the wbem action plugins run the
modules in Ansible's worker processes on the controller). Measured, in this order:

- ours: ``ansible-playbook --forks N`` of one ``wbem_info`` task enumerating CIM_ComputerSystem
  on every host (the request log must show one enumeration per endpoint, every result 3
  instances); the controller's peak memory is sampled meanwhile: the largest sum of the PSS
  (and of the RSS, which counts pages shared with forked workers again for each) of
  ansible-playbook and all its descendants (/proc/PID/smaps_rollup every 50 ms);
- loop: a shell loop of ``pywbemcli ... instance enumerate CIM_ComputerSystem`` calls, one
  per endpoint, one after the other, the way an admin scripts it today; measured on the first
  ``--loop-hosts`` endpoints (default 100) and scaled linearly to ``--hosts`` (printed so);
- threaded: one Python process, 32 threads, one pywbem ``WBEMConnection`` per endpoint doing
  the same request (``IterEnumerateInstances``: OpenEnumerateInstances, as pywbemcli and our
  module do), the floor for Python on this machine;
- the ``wbem_instance`` play over the same hosts, each keeping its own HOSTSEC_AllTypes
  instance on its endpoint: a first run creates them, the timed second run must change
  nothing: exactly one GetInstance per host and not a single write in the request log.

pywbemcli comes from pywbemtools in a virtualenv of its own under build/cache (it pins an older
``click`` than the project's virtualenv); ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` are
unset for it and for the threaded script: pywbem would prefer them to the CA given.

Ansible settings: only ``--forks`` (default 8; the CIMOM, a single Python process, is the
bottleneck: more forks only queue at the server) and the harness's environment (collection
path, no colour, the results callback). Last line::

    wbem_fleet: hosts=1000 ours=..s loop=..s threaded=..s vs_loop=.. vs_threaded=..

(vs_loop = loop / ours, goal >= 5; vs_threaded = ours / threaded, goal <= 3.)

Usage: python benchmarks/wbem_fleet.py [--hosts 1000] [--forks 8] [--loop-hosts 100]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from harness import ansible, paths  # noqa: E402  pylint: disable=wrong-import-position
from harness.services.wbem import WbemService  # noqa: E402  pylint: disable=wrong-import-position

PYWBEMTOOLS = ['pywbemtools>=1.4,<1.5', 'pywbem>=1.9,<1.10']
TOOLS_VENV = os.path.join(paths.CACHE, 'pywbemtools-venv')
THREADS = 32
CONNECTION = """
        server: "{{ wbem_url }}"
        username: "{{ wbem_username }}"
        password: "{{ wbem_password }}"
        ca_certs: "{{ wbem_ca_certs }}"
"""

INFO_PLAY = """
- name: Every host asks its endpoint for its computer systems
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Enumerate CIM_ComputerSystem
      hostsec.mgmt.wbem_info:%s        class_name: CIM_ComputerSystem
""" % CONNECTION

INSTANCE_PLAY = """
- name: Every host keeps its own instance on its endpoint
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Ensure the instance
      hostsec.mgmt.wbem_instance:%s        class_name: HOSTSEC_AllTypes
        keys:
          InstanceID: "hostsec:fleet:{{ inventory_hostname }}"
        properties:
          ElementName: "{{ inventory_hostname }}"
          PUint32: 42
          PBoolean: true
          PStringArray: [fleet, bench]
""" % CONNECTION


def pywbemcli():
    """The pywbemcli command: from PATH, else from a virtualenv of its own under build/cache."""
    found = shutil.which('pywbemcli')
    if found:
        return found
    command = os.path.join(TOOLS_VENV, 'bin', 'pywbemcli')
    if not os.path.exists(command):
        print('installing pywbemtools into %s' % TOOLS_VENV, flush=True)
        subprocess.run([sys.executable, '-m', 'venv', TOOLS_VENV], check=True)
        subprocess.run([os.path.join(TOOLS_VENV, 'bin', 'pip'), 'install', '-q'] + PYWBEMTOOLS,
                       check=True)
    return command


def write_inventory(directory, urls):
    path = os.path.join(directory, 'fleet.ini')
    with open(path, 'w') as handle:
        handle.write('[fleet]\n')
        for index, url in enumerate(urls):
            handle.write('node%04d wbem_url=%s\n' % (index, url))
        handle.write('\n[fleet:vars]\nansible_connection=local\n'
                     'ansible_python_interpreter=%s\n' % paths.tool('python'))
    return path


def _tree_memory(root_pid):
    """``(RSS, PSS)`` in bytes summed over ``root_pid`` and all its descendants, from /proc.

    The RSS sum counts the pages a forked worker shares with the main process once per
    process; PSS shares them out (smaps_rollup), so its sum is what the tree really holds."""
    children = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    rss = pss = 0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open('/proc/%d/smaps_rollup' % pid) as handle:
                for line in handle:
                    if line.startswith(('Rss:', 'Pss:')):
                        value = int(line.split()[1]) * 1024
                        if line.startswith('Rss:'):
                            rss += value
                        else:
                            pss += value
        except OSError:
            continue
    return rss, pss


def run_play(directory, name, text, inventory, service, forks):
    """Run a play; ``(results, recap, seconds, (peak RSS sum, peak PSS sum) of the controller
    in bytes)``."""
    playbook = os.path.join(directory, name)
    with open(playbook, 'w') as handle:
        handle.write(text)
    vars_file = os.path.join(directory, 'vars.json')
    fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(service.ansible_vars(), handle)
    results_file = os.path.join(directory, name + '.results.jsonl')
    env = ansible.environment({'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
                               'HOSTSEC_RESULTS_FILE': results_file})
    argv = [paths.tool('ansible-playbook'), '-i', inventory, playbook, '--forks', str(forks),
            '-e', '@' + vars_file]
    with open(os.path.join(directory, name + '.out'), 'w+') as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=paths.ROOT, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        peak = [0, 0]
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                rss, pss = _tree_memory(proc.pid)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rc = proc.wait()
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
        out.seek(0)
        output = out.read()
    if rc != 0:
        raise SystemExit('%s failed (rc=%s):\n%s' % (name, rc, output[-5000:]))
    with open(results_file) as handle:
        results = [json.loads(line) for line in handle if line.strip()]
    os.unlink(results_file)
    recap = ansible.AnsibleRun(argv, rc, output, '', results).recap
    return results, recap, elapsed, tuple(peak)


def tools_env():
    env = dict(os.environ)
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        env.pop(name, None)
    return env


def run_pywbemcli_loop(directory, service, urls):
    env = tools_env()
    env['WBEM_BENCH_PASSWORD'] = service.password
    urls_file = os.path.join(directory, 'urls.txt')
    with open(urls_file, 'w') as handle:
        handle.write('\n'.join(urls) + '\n')
    script = ('while read -r url; do "$PYWBEMCLI" --server "$url" --user "$USER_NAME" '
              '--password "$WBEM_BENCH_PASSWORD" --ca-certs "$CA" --default-namespace root/cimv2 '
              'instance enumerate CIM_ComputerSystem > /dev/null || exit 1; done < "$URLS"')
    env.update(PYWBEMCLI=pywbemcli(), USER_NAME=service.username, CA=service.ca_file,
               URLS=urls_file)
    # one call outside the timing: the first start-up of a fresh virtualenv compiles bytecode
    with open(urls_file + '.first', 'w') as handle:
        handle.write(service.url + '\n')
    subprocess.run(['sh', '-c', script], env=dict(env, URLS=urls_file + '.first'), cwd=directory,
                   check=True, stdin=subprocess.DEVNULL)
    service.reset_requests()
    start = time.perf_counter()
    subprocess.run(['sh', '-c', script], env=env, cwd=directory, check=True,
                   stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


THREADED_SCRIPT = r"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
import pywbem
user, password, ca, threads = sys.argv[1], sys.stdin.readline().rstrip('\n'), sys.argv[2], int(sys.argv[3])
urls = sys.argv[4:]
def one(url):
    conn = pywbem.WBEMConnection(url, (user, password), default_namespace='root/cimv2',
                                 ca_certs=ca, use_pull_operations=None)
    return len(list(conn.IterEnumerateInstances('CIM_ComputerSystem')))
start = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    counts = list(pool.map(one, urls))
elapsed = time.perf_counter() - start
assert counts == [3] * len(urls), counts
print('%.3f' % elapsed)
"""


def run_threaded(service, urls):
    """The threaded pywbem script in a process of its own (pywbem of the project's virtualenv);
    its own timing, from the first connection to the last result."""
    proc = subprocess.run([sys.executable, '-c', THREADED_SCRIPT, service.username, service.ca_file,
                           str(THREADS)] + list(urls), env=tools_env(), input=service.password + '\n',
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('threaded pywbem failed:\n%s' % proc.stderr[-5000:])
    return float(proc.stdout.split()[-1])


def check_info(results, recap, service, hosts):
    counts = [r['result'].get('count') for r in results if r['task'] == 'Enumerate CIM_ComputerSystem']
    failed = sum(counts_['failed'] + counts_['unreachable'] for counts_ in recap.values())
    enumerations = service.count(operation='OpenEnumerateInstances') + \
        service.count(operation='EnumerateInstances')
    ports = {entry['port'] for entry in service.requests()}
    assert counts == [3] * hosts and failed == 0, (counts[:5], failed)
    assert enumerations == hosts and len(ports) == hosts, (enumerations, len(ports))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--forks', type=int, default=8)
    parser.add_argument('--loop-hosts', type=int, default=100,
                        help='endpoints the pywbemcli loop runs against (scaled to --hosts)')
    args = parser.parse_args()
    paths.sync_collection()
    os.makedirs(paths.CACHE, exist_ok=True)
    pywbemcli()
    loop_hosts = min(args.loop_hosts, args.hosts)
    directory = tempfile.mkdtemp(prefix='wbem-fleet-', dir=paths.BUILD)
    try:
        with WbemService(os.path.join(directory, 'cimom'), bulk=0,
                         extra_https_ports=args.hosts) as service:
            urls = service.fleet_urls
            inventory = write_inventory(directory, urls)

            service.reset_requests()
            results, recap, ours, info_peak = run_play(directory, 'info.yml', INFO_PLAY, inventory,
                                                       service, args.forks)
            check_info(results, recap, service, args.hosts)
            print('wbem_fleet: ours %.1f s' % ours, flush=True)

            loop_measured = run_pywbemcli_loop(directory, service, urls[:loop_hosts])
            loop = loop_measured * args.hosts / loop_hosts
            cli_requests = service.count(classname='CIM_ComputerSystem')
            print('wbem_fleet: loop %.1f s on %d endpoints' % (loop_measured, loop_hosts), flush=True)

            service.reset_requests()
            threaded = run_threaded(service, urls)
            threaded_requests = service.count(operation='OpenEnumerateInstances')
            assert threaded_requests == args.hosts, threaded_requests
            print('wbem_fleet: threaded %.1f s' % threaded, flush=True)

            _results, _recap, first_time, _peak = run_play(directory, 'instance.yml', INSTANCE_PLAY,
                                                           inventory, service, args.forks)
            service.reset_requests()
            _results, recap, second_time, instance_peak = run_play(
                directory, 'instance.yml', INSTANCE_PLAY, inventory, service, args.forks)
            changed = sum(counts['changed'] for counts in recap.values())
            failed = sum(counts['failed'] for counts in recap.values())
            writes = service.count(write=True)
            gets = service.count(operation='GetInstance')
            assert changed == 0 and failed == 0 and writes == 0 and gets == args.hosts, \
                (changed, failed, writes, gets)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    mib = 1024.0 * 1024.0
    print('wbem_fleet: %d endpoints (one test CIMOM process, one HTTPS port each), forks=%d, '
          'one CIM_ComputerSystem enumeration each' % (args.hosts, args.forks))
    print('wbem_fleet: ours, ansible-playbook + hostsec.mgmt.wbem_info: %.1f s' % ours)
    print('wbem_fleet: loop, pywbemcli shell loop: %.1f s measured on %d endpoints (%d requests), '
          'scaled to %d: %.1f s' % (loop_measured, loop_hosts, cli_requests, args.hosts, loop))
    print('wbem_fleet: threaded, pywbem %d threads in one process: %.1f s' % (THREADS, threaded))
    print('wbem_fleet: wbem_instance play, first run (creates %d instances): %.1f s'
          % (args.hosts, first_time))
    print('wbem_fleet: wbem_instance play, no-change run: %.1f s (%d GetInstance, %d writes, '
          'changed=%d)' % (second_time, gets, writes, changed))
    print('wbem_fleet: controller peak memory, ansible-playbook and all its workers, sampled '
          'every 50 ms: wbem_info PSS %.0f MiB (RSS sum %.0f MiB), wbem_instance PSS %.0f MiB '
          '(RSS sum %.0f MiB)' % (info_peak[1] / mib, info_peak[0] / mib, instance_peak[1] / mib,
                                  instance_peak[0] / mib))
    print('wbem_fleet: hosts=%d ours=%.1fs loop=%.1fs threaded=%.1fs vs_loop=%.2f vs_threaded=%.2f'
          % (args.hosts, ours, loop, threaded, loop / ours, ours / threaded))
    return 0


if __name__ == '__main__':
    sys.exit(main())
