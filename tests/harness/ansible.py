# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-playbook and ad-hoc ansible against localhost with the collection mirror.

Every run gets its own results file: the ``hostsec_results`` callback writes each task result
there as a JSON line, so tests can assert on return values and grep everything Ansible printed
and returned (the secret-leak tests).
"""

import json
import os
import re
import subprocess
import tempfile

from . import paths

HERE = os.path.dirname(os.path.abspath(__file__))
INVENTORY = os.path.join(HERE, 'inventory.ini')
RECAP_RE = re.compile(
    r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+'
    r'unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+'
    r'rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)', re.M)


TARGETS = os.path.join(paths.ROOT, 'tests', 'integration', 'targets')


def target_playbook(directory, target):
    """Write a play that runs ``tests/integration/targets/<target>/tasks/main.yml`` on
    localhost into ``directory``; return its path."""
    path = os.path.join(str(directory), '%s.yml' % target)
    with open(path, 'w') as handle:
        handle.write('- name: Target %s\n'
                     '  hosts: localhost\n'
                     '  gather_facts: false\n'
                     '  tasks:\n'
                     '    - name: Run the target\n'
                     '      ansible.builtin.include_tasks: %s\n'
                     % (target, os.path.join(TARGETS, target, 'tasks', 'main.yml')))
    return path


class AnsibleRun(object):
    """What one ansible/ansible-playbook run printed and returned."""

    def __init__(self, argv, rc, stdout, stderr, results):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.results = results

    @property
    def output(self):
        """Everything the run printed and returned, for grep tests."""
        return '\n'.join([self.stdout, self.stderr] + [json.dumps(r) for r in self.results])

    @property
    def recap(self):
        """``{host: {'ok': n, 'changed': n, ...}}`` from the PLAY RECAP."""
        return {m.group('host'): {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
                for m in RECAP_RE.finditer(self.stdout)}

    def task(self, name):
        """The result dict of the (last) task called ``name``."""
        matches = [r for r in self.results if r['task'] == name]
        if not matches:
            raise KeyError('no task %r among %r' % (name, [r['task'] for r in self.results]))
        return matches[-1]['result']

    def explain(self):
        return 'command: %s\nrc=%s\n--- stdout\n%s\n--- stderr\n%s' % (
            ' '.join(self.argv), self.rc, self.stdout[-20000:], self.stderr[-10000:])


def environment(extra=None):
    """The environment for ansible commands: collection mirror, no colour, our callback."""
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': paths.COLLECTIONS,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
        'ANSIBLE_CALLBACKS_ENABLED': 'hostsec_results',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'ANSIBLE_CONFIG': os.path.join(HERE, 'ansible.cfg'),
        # Local tmp, galaxy cache and collections of Ansible under build/, not ~/.ansible.
        'ANSIBLE_HOME': paths.ANSIBLE_HOME,
        # The modules' temporary files: ansible-core < 2.17 does not derive this one from
        # ANSIBLE_HOME (its default stays ~/.ansible/tmp).
        'ANSIBLE_REMOTE_TMP': os.path.join(paths.ANSIBLE_HOME, 'remote-tmp'),
        'PATH': paths.BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    env.pop('ANSIBLE_STDOUT_CALLBACK', None)
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(argv, env, timeout, extra_vars=None, cwd=None):
    """Run ``argv``; ``extra_vars`` go through a 0600 file (``-e @file``), as a user would pass
    secrets, because ansible-playbook -vvvv echoes ``-e`` strings given on the command line."""
    fd, results_file = tempfile.mkstemp(prefix='hostsec-results-', suffix='.jsonl')
    os.close(fd)
    env = dict(env, HOSTSEC_RESULTS_FILE=results_file)
    vars_file = None
    try:
        if extra_vars:
            fd, vars_file = tempfile.mkstemp(prefix='hostsec-vars-', suffix='.json')
            with os.fdopen(fd, 'w') as handle:
                json.dump(extra_vars, handle)
            argv = list(argv) + ['-e', '@' + vars_file]
        proc = subprocess.run(argv, env=env, cwd=cwd or paths.ROOT, timeout=timeout,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False)
        with open(results_file) as handle:
            results = [json.loads(line) for line in handle if line.strip()]
    finally:
        os.unlink(results_file)
        if vars_file:
            os.unlink(vars_file)
    return AnsibleRun(argv, proc.returncode, proc.stdout, proc.stderr, results)


def _mode_args(check, diff, verbosity):
    return (['--check'] if check else []) + (['--diff'] if diff else []) + \
        (['-' + 'v' * verbosity] if verbosity else [])


def run_playbook(playbook, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
                 args=(), inventory=INVENTORY, timeout=900, bin_dir=None):
    """Run ``playbook`` against the local inventory and return an :class:`AnsibleRun`.

    ``bin_dir``: run the ansible-playbook of another virtualenv (e.g. the oldest ansible-core).
    """
    command = os.path.join(bin_dir, 'ansible-playbook') if bin_dir else \
        paths.tool('ansible-playbook')
    argv = [command, '-i', inventory, playbook] + _mode_args(check, diff, verbosity) + list(args)
    run_env = environment(env)
    if bin_dir:
        run_env['PATH'] = bin_dir + os.pathsep + run_env['PATH']
    return _run(argv, run_env, timeout, extra_vars)


def run_adhoc(module, module_args='', extra_vars=None, env=None, check=False, diff=False,
              verbosity=0, host='localhost', inventory=INVENTORY, timeout=300):
    """Run ``ansible HOST -m MODULE -a ARGS`` and return an :class:`AnsibleRun`."""
    argv = [paths.tool('ansible'), host, '-i', inventory, '-m', module]
    if module_args:
        argv += ['-a', module_args]
    argv += _mode_args(check, diff, verbosity)
    return _run(argv, environment(dict(env or {}, ANSIBLE_LOAD_CALLBACK_PLUGINS='1')), timeout,
                extra_vars)


def run_command(argv, env=None, timeout=300, cwd=None):
    """Run another ansible command (ansible-galaxy, ansible-doc ...) with the tests' environment."""
    return _run(argv, environment(env), timeout, cwd=cwd)


def build_collection(out_dir):
    """Build the release tarball of the tree under test into ``out_dir``; return its path."""
    run = run_command([paths.tool('ansible-galaxy'), 'collection', 'build', '--force',
                       '--output-path', str(out_dir), paths.ROOT])
    assert run.rc == 0, run.explain()
    (tarball,) = [os.path.join(str(out_dir), name) for name in os.listdir(str(out_dir))
                  if name.endswith('.tar.gz')]
    return tarball
