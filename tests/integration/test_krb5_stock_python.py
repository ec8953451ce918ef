# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The krb5 modules on a stock Debian host: the system ``/usr/bin/python3`` as the module
interpreter, with ``python3-gssapi`` from apt and no pykrb5 (the collection's ctypes binding of
libkrb5 stands in for it), against a real MIT KDC.

The integration targets krb5_ticket and krb5_keytab_info run once with the project's
virtualenv (pykrb5 installed) and once with the system Python; every task must end the same
way (status and changed), and krb5_ticket_info must report the same tickets, times and flags.
"""

import glob
import json
import os
import subprocess

import pytest

from harness import ansible, paths
from harness.services.krb5 import USERS, Krb5Service

pytestmark = pytest.mark.slow

TARGETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'targets')
SYSTEM_PYTHON = '/usr/bin/python3'
STOCK = {'ansible_python_interpreter': SYSTEM_PYTHON}


def _system_python(code):
    return subprocess.run([SYSTEM_PYTHON, '-c', code], capture_output=True, text=True,
                          check=False, env={'PATH': '/usr/bin:/bin', 'PYTHONNOUSERSITE': '1'})


@pytest.fixture(scope='module')
def stock_python():
    """The system Python: python3-gssapi (bindep test profile), and no pykrb5."""
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip('no system Python at %s' % SYSTEM_PYTHON)
    gssapi = _system_python('import gssapi.raw')
    assert gssapi.returncode == 0, ('python3-gssapi is not installed for %s (bindep.txt, test '
                                    'profile): %s' % (SYSTEM_PYTHON, gssapi.stderr))
    pykrb5 = _system_python('import krb5')
    assert pykrb5.returncode != 0 and 'krb5' in pykrb5.stderr, \
        'pykrb5 is importable by %s: this test needs a stock host without it' % SYSTEM_PYTHON
    return SYSTEM_PYTHON


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5stock'))) as service:
        yield service


def test_system_python_uses_the_libkrb5_binding(stock_python, tmp_path):
    """deps picks the binding under the system Python (and pykrb5 in the virtualenv)."""
    import ansible as ansible_package  # pylint: disable=import-outside-toplevel
    # Only ansible's own package on the path (module_utils), not the virtualenv's pykrb5.
    os.symlink(os.path.dirname(ansible_package.__file__), str(tmp_path / 'ansible'))
    code = ('import sys; sys.path[:0] = [%r, %r]\n'
            'from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import deps\n'
            'print(deps.BACKEND, deps.PYKRB5.available, deps.GSSAPI.available)'
            % (paths.COLLECTIONS, str(tmp_path)))
    stock = subprocess.run([stock_python, '-c', code], capture_output=True, text=True, check=False,
                           env={'PATH': '/usr/bin:/bin', 'PYTHONNOUSERSITE': '1'})
    assert stock.returncode == 0, stock.stderr
    assert stock.stdout.split() == ['libkrb5', 'True', 'True']
    venv = subprocess.run([paths.BIN + '/python', '-c', code], capture_output=True, text=True,
                          check=False)
    assert venv.stdout.split() == ['pykrb5', 'True', 'True'], venv.stderr


def _outcome(run):
    return [(r['task'], r['status'], bool(r['result'].get('changed'))) for r in run.results]


@pytest.mark.parametrize('target', ['krb5_ticket', 'krb5_keytab_info'])
def test_target_same_results_with_system_python(stock_python, kdc, tmp_path, target):
    outcomes = {}
    for label, interpreter in (('venv', {}), ('stock', STOCK)):
        workdir = tmp_path / label
        workdir.mkdir()
        playbook = tmp_path / ('%s.json' % label)
        playbook.write_text(json.dumps([{
            'name': 'krb5 target', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'run the target', 'ansible.builtin.include_tasks':
                       os.path.join(TARGETS, target, 'tasks', 'main.yml')}]}]))
        extra = dict(kdc.ansible_vars(), krb5_test_dir=str(workdir), **interpreter)
        run = ansible.run_playbook(str(playbook), verbosity=4 if interpreter else 0,
                                   extra_vars=extra)
        assert run.rc == 0, run.explain()
        assert run.recap['localhost']['failed'] == 0, run.explain()
        if interpreter:
            # The modules really ran under the system Python.
            assert "'%s " % stock_python in run.output or '"%s ' % stock_python in run.output \
                or ' %s /' % stock_python in run.output, run.explain()
            for secret in USERS.values():
                assert secret not in run.output
        outcomes[label] = _outcome(run)
    assert outcomes['stock'] == outcomes['venv']
    assert len(outcomes['stock']) > 10


def _ticket_info(kdc, ccache, extra_vars=None):
    run = ansible.run_adhoc('hostsec.mgmt.krb5_ticket_info', json.dumps({'ccache': ccache}),
                            env=kdc.env, extra_vars=extra_vars)
    assert run.rc == 0, run.explain()
    return run.results[0]['result']


def test_ticket_info_lists_times_and_flags(stock_python, kdc, tmp_path):
    """A renewable TGT and a service ticket (kinit, kvno): the same tickets, times, flags and
    enctypes through the binding as through pykrb5."""
    ccache = 'FILE:%s/cc' % tmp_path
    assert kdc.kinit('alice', ccache, lifetime='3h', renewable='2d').returncode == 0
    subprocess.run(['kvno', kdc.principal('HTTP/www.hostsec.test')], check=True,
                   capture_output=True, env=kdc.client_env(KRB5CCNAME=ccache))
    venv = _ticket_info(kdc, ccache)
    stock = _ticket_info(kdc, ccache, STOCK)
    keys = ('client', 'server', 'auth_time', 'start', 'end', 'renew_till', 'flags',
            'flag_letters', 'enctype', 'is_tgt')
    assert len(stock['tickets']) == 2
    assert [{k: t[k] for k in keys} for t in stock['tickets']] == \
        [{k: t[k] for k in keys} for t in venv['tickets']]
    tgt = stock['tgt']
    assert tgt['is_tgt'] and tgt['renew_till'] and tgt['end'] and tgt['start']
    assert {'renewable', 'initial', 'pre_authent'} <= set(tgt['flags'])
    assert stock['tgt_valid'] is True and stock['principal'] == kdc.principal('alice')


def test_renew_and_destroy_with_system_python(stock_python, kdc, tmp_path):
    """Renewal (krb5_get_renewed_creds through the binding) and state=absent."""
    ccache = 'FILE:%s/cc' % tmp_path
    assert kdc.kinit('alice', ccache, lifetime='2h', renewable='2d').returncode == 0
    before = _ticket_info(kdc, ccache, STOCK)
    run = ansible.run_adhoc('hostsec.mgmt.krb5_ticket', json.dumps(
        {'principal': kdc.principal('alice'), 'ccache': ccache, 'min_lifetime': '3h'}),
        env=kdc.env, extra_vars=STOCK)
    assert run.rc == 0, run.explain()
    result = run.results[0]['result']
    assert result['changed'] and result['action'] == 'renew', run.explain()
    after = _ticket_info(kdc, ccache, STOCK)
    assert after['tgt']['renew_till'] == before['tgt']['renew_till']
    assert kdc.klist('-s', '-c', ccache).returncode == 0
    gone = ansible.run_adhoc('hostsec.mgmt.krb5_ticket', json.dumps(
        {'ccache': ccache, 'state': 'absent'}), env=kdc.env, extra_vars=STOCK)
    assert gone.rc == 0 and gone.results[0]['result']['changed'], gone.explain()
    assert not os.path.exists(ccache[len('FILE:'):])


def _system_site_entries():
    """Every name in the system Python's package directories (to prove pip added nothing)."""
    names = set()
    for pattern in ('/usr/lib/python3/dist-packages', '/usr/lib/python3*/site-packages',
                    '/usr/local/lib/python3*/dist-packages', '/usr/local/lib/python3*/site-packages'):
        for directory in glob.glob(pattern):
            names.update(os.path.join(directory, name) for name in os.listdir(directory))
    return names


def test_role_installs_with_distro_packages_only(stock_python, kdc, tmp_path):
    """kerberos_client with install_packages: true on this Debian 12 machine (PEP 668), the
    system Python as interpreter: apt packages only, no pip, and then the ticket and the keytab
    verification work with the libkrb5 binding."""
    host = tmp_path / 'host'
    host.mkdir()
    before = _system_site_entries()
    playbook = tmp_path / 'role.json'
    playbook.write_text(json.dumps([{
        'name': 'kerberos_client on a stock host', 'hosts': 'localhost', 'gather_facts': True,
        'tasks': [{'name': 'Configure the Kerberos client', 'ansible.builtin.include_role': {
            'name': 'hostsec.mgmt.kerberos_client'}, 'vars': {
            'kerberos_client_install_packages': True,
            'kerberos_client_krb5_conf_path': str(host / 'krb5.conf'),
            'kerberos_client_default_realm': '{{ krb5_realm }}',
            'kerberos_client_realms': [{'name': '{{ krb5_realm }}', 'kdcs': ['{{ krb5_kdc }}']}],
            'kerberos_client_libdefaults': {'kdc_timesync': 0, 'udp_preference_limit': 1},
            'kerberos_client_keytab': {'src': '{{ krb5_keytabs.service }}',
                                       'dest': str(host / 'http.keytab')},
            'kerberos_client_ticket': {'principal': '{{ krb5_robot_principal }}',
                                       'keytab': '{{ krb5_keytabs.robot }}',
                                       'ccache': 'FILE:%s' % (host / 'robot.cc')}}}]}]))
    run = ansible.run_playbook(str(playbook), extra_vars=dict(kdc.ansible_vars(), **STOCK))
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()
    by_action = {}
    for record in run.results:
        by_action.setdefault(record['action'], []).append(record)
    packages = by_action['ansible.builtin.package']
    assert [r['status'] for r in packages] == ['ok'], run.explain()
    assert all(r['status'] == 'skipped' for r in by_action.get('ansible.builtin.pip', [])), \
        run.explain()
    assert _system_python('import krb5').returncode != 0, 'pykrb5 got into the system Python'
    added = _system_site_entries() - before
    assert not [name for name in added if 'krb5' in name.lower()], sorted(added)
    verified = by_action['hostsec.mgmt.krb5_keytab_info'][0]['result']
    assert verified['verified'] is True or all(
        item['success'] for item in verified.get('verification', [])), run.explain()
    ticket = by_action['hostsec.mgmt.krb5_ticket'][0]['result']
    assert ticket['changed'] and ticket['principal'] == kdc.principal('robot')


def test_the_whole_krb5_suite_with_system_python(stock_python):
    """tests/integration/test_krb5.py (every module and option against the KDC, the KDC stopped,
    the clock skewed, hostile caches) once more with the system Python as the module
    interpreter: it passes as it does with the virtualenv."""
    # The inventory's interpreter follows HOSTSEC_MODULE_PYTHON.
    facts = ansible.run_adhoc('ansible.builtin.setup', 'gather_subset=!all filter=ansible_python',
                              env={'HOSTSEC_MODULE_PYTHON': stock_python})
    assert facts.rc == 0, facts.explain()
    assert facts.results[0]['result']['ansible_facts']['ansible_python']['executable'] == stock_python
    env = dict(os.environ, HOSTSEC_MODULE_PYTHON=stock_python)
    proc = subprocess.run([paths.BIN + '/python', '-m', 'pytest', '-q', '-x',
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_krb5.py')],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=1500,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert ' passed' in proc.stdout and ' failed' not in proc.stdout
