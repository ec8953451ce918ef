# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cache collections (DIR:, KEYRING: persistent and session, KCM:) against a real MIT KDC,
compared with MIT's own ``klist -l``, ``klist -A``, ``kinit`` and ``kdestroy -A``.

One realm for the file. Each cache type runs one playbook: the whole scenario (:func:`_scenario`)
with the project's virtualenv (pykrb5), then a short one with the system Python (the
collection's ctypes binding of libkrb5), so both backends list, switch and destroy collections.

- KEYRING: needs the kernel keyring (``keyctl``; a container's seccomp profile may block it):
  ``KEYRING:persistent:UID`` of a throwaway uid (so no other test's caches are touched) and
  ``KEYRING:session:NAME`` with a unique name.
- KCM: needs Heimdal's kcm (heimdal-kcm) and a private mount namespace
  (tests/harness/services/kcm.py).
"""

import json
import os
import shutil
import subprocess
import uuid

import pytest

from harness import ansible
from harness import attacker as hostile
from harness.services import kcm as kcm_service
from harness.services.krb5 import USERS, Krb5Service

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = '/usr/bin/python3'


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5col'))) as service:
        yield service


def _keyring_blocked():
    """Why the kernel keyring cannot be used here, or ``None``."""
    if not shutil.which('keyctl'):
        return 'keyctl (Debian package keyutils) is missing'
    probe = subprocess.run(['keyctl', 'show', '@s'], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return 'the kernel keyring is blocked here (keyctl show @s: %s)' % probe.stderr.strip()
    probe = subprocess.run(['keyctl', 'get_persistent', '@s'], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        return 'no persistent keyrings here (keyctl get_persistent: %s)' % probe.stderr.strip()
    return None


def _stock_python():
    if not os.path.exists(SYSTEM_PYTHON):
        return None
    probe = subprocess.run([SYSTEM_PYTHON, '-c', 'import gssapi.raw'], capture_output=True,
                           check=False, env={'PATH': '/usr/bin:/bin'})
    return SYSTEM_PYTHON if probe.returncode == 0 else None


def _module(name, module, args, **extra):
    task = {'name': name, 'hostsec.mgmt.' + module: args}
    task.update(extra)
    return task


def _command(name, argv, collection, stdin=None, **extra):
    args = {'argv': argv}
    if stdin is not None:
        args['stdin'] = stdin
    task = {'name': name, 'ansible.builtin.command': args,
            'environment': {'KRB5CCNAME': collection}, 'changed_when': False,
            'failed_when': False}
    task.update(extra)
    return task


def _user(kdc, user):
    return {'principal': kdc.principal(user), 'password': USERS[user]}


def _scenario(kdc, col, p=''):
    """The tasks of the whole scenario on collection ``col``; task names start with ``p``."""
    alice, bob = _user(kdc, 'alice'), _user(kdc, 'bob')
    ticket, info = 'krb5_ticket', 'krb5_ticket_info'
    absent_all = {'ccache': col, 'state': 'absent', 'all': True}
    return [
        # Ours write, MIT's klist reads.
        _module(p + 'alice', ticket, dict(alice, ccache=col), register='alice_cache'),
        _module(p + 'bob switched', ticket, dict(bob, ccache=col, switch=True)),
        _module(p + 'alice again', ticket, {'principal': alice['principal'], 'ccache': col}),
        _module(p + 'switch check', ticket, {'principal': alice['principal'], 'ccache': col,
                                             'switch': True}, check_mode=True, diff=True),
        _module(p + 'info after check', info, {'ccache': col, 'all': True}),
        _module(p + 'switch', ticket, {'principal': alice['principal'], 'ccache': col,
                                       'switch': True}, diff=True),
        _module(p + 'switch again', ticket, {'principal': alice['principal'], 'ccache': col,
                                             'switch': True}),
        _command(p + 'klist -l', ['klist', '-l'], col),
        _command(p + 'klist -A', ['klist', '-A'], col),
        _command(p + 'klist', ['klist'], col),
        _module(p + 'info all', info, {'ccache': col, 'all': True}),
        _module(p + 'info member', info, {'ccache': '{{ alice_cache.ccache }}', 'all': True}),
        _module(p + 'destroy check', ticket, absent_all, check_mode=True, diff=True),
        _command(p + 'klist -l after check', ['klist', '-l'], col),
        _module(p + 'destroy', ticket, absent_all),
        _module(p + 'destroy again', ticket, absent_all),
        _module(p + 'info after destroy', info, {'ccache': col, 'all': True}),
        # MIT's kinit writes, ours read and destroy.
        _command(p + 'kinit bob', ['kinit', bob['principal']], col, stdin=bob['password'],
                 no_log=True),
        _command(p + 'kinit robot', ['kinit', '-k', '-t', kdc.keytabs['robot'],
                                     kdc.principal('robot')], col),
        _command(p + 'klist -l of kinit', ['klist', '-l'], col),
        _module(p + 'info of kinit', info, {'ccache': col, 'all': True}),
        _module(p + 'destroy kinit', ticket, absent_all),
        _command(p + 'klist -l after destroy', ['klist', '-l'], col),
        # Ours write, MIT's kdestroy -A destroys.
        _module(p + 'alice for kdestroy', ticket, dict(alice, ccache=col)),
        _module(p + 'bob for kdestroy', ticket, dict(bob, ccache=col)),
        _command(p + 'kdestroy -A', ['kdestroy', '-A'], col),
        _module(p + 'info after kdestroy', info, {'ccache': col, 'all': True}),
        _module(p + 'destroy after kdestroy', ticket, absent_all),
    ]


def _short(kdc, col, interpreter=None, p='stock ', mit=False):
    """Acquire two, switch, list, destroy all (with ``interpreter``: the libkrb5 binding under
    the system Python); ``mit``: then kinit writes and kdestroy -A destroys, ours read."""
    alice, bob = _user(kdc, 'alice'), _user(kdc, 'bob')
    absent_all = {'ccache': col, 'state': 'absent', 'all': True}
    info = {'ccache': col, 'all': True}
    tasks = [
        _module(p + 'alice', 'krb5_ticket', dict(alice, ccache=col)),
        _module(p + 'bob switched', 'krb5_ticket', dict(bob, ccache=col, switch=True)),
        _module(p + 'alice again', 'krb5_ticket', {'principal': alice['principal'],
                                                   'ccache': col}),
        _command(p + 'klist -l', ['klist', '-l'], col),
        _command(p + 'klist', ['klist'], col),
        _module(p + 'info all', 'krb5_ticket_info', info),
        _module(p + 'destroy', 'krb5_ticket', absent_all),
        _command(p + 'klist -l after destroy', ['klist', '-l'], col),
        _module(p + 'destroy again', 'krb5_ticket', absent_all),
    ]
    if mit:
        tasks += [
            _command(p + 'kinit bob', ['kinit', bob['principal']], col, stdin=bob['password'],
                     no_log=True),
            _command(p + 'klist -l of kinit', ['klist', '-l'], col),
            _module(p + 'info of kinit', 'krb5_ticket_info', info),
            _command(p + 'kdestroy -A', ['kdestroy', '-A'], col),
            _module(p + 'info after kdestroy', 'krb5_ticket_info', info),
        ]
    if interpreter:
        for task in tasks:
            task['vars'] = {'ansible_python_interpreter': interpreter}
    return tasks


def _run(kdc, tmp_path, tasks, env=None):
    play = [{'name': 'krb5 collections', 'hosts': 'localhost', 'gather_facts': False,
             'environment': dict(kdc.env, **(env or {})), 'tasks': tasks}]
    path = tmp_path / 'play.json'
    path.write_text(json.dumps(play))
    run = ansible.run_playbook(str(path))
    assert run.rc == 0, run.explain()
    for secret in USERS.values():
        assert secret not in run.output, 'a password appears in the output'
    return run


def _klist_l(result):
    """``{(principal, cache name)}`` of ``klist -l`` output."""
    lines = result['stdout'].splitlines()
    if not lines:
        return set()
    rows = lines[lines.index(next(l for l in lines if l.startswith('---'))) + 1:]
    return {tuple(row.split()) for row in rows if row.strip()}


def _listed(result):
    return {(c['principal'], c['ccache']) for c in result['caches']}


def _primary(result):
    return [c for c in result['caches'] if c['primary']]


def _check_scenario(run, kdc, prefix, p=''):
    """The scenario's outcome, compared with klist/kdestroy."""
    def task(name):
        return run.task(p + name)
    alice, bob = kdc.principal('alice'), kdc.principal('bob')
    first = task('alice')
    assert first['changed'] and first['action'] == 'acquire', first
    assert first['ccache'].startswith(prefix), first
    second = task('bob switched')
    assert second['changed'] and second['ccache'].startswith(prefix)
    assert second['ccache'] != first['ccache'], 'bob overwrote alice\'s cache'
    again = task('alice again')
    assert again['changed'] is False and again['ccache'] == first['ccache'], again
    check = task('switch check')
    assert check['changed'] and check['action'] == 'switch', check
    assert check['diff']['before']['primary'] == second['ccache']
    assert check['diff']['after']['primary'] == first['ccache']
    assert [c['principal'] for c in _primary(task('info after check'))] == [bob]
    switched = task('switch')
    assert switched['changed'] and switched['action'] == 'switch', switched
    assert task('switch again')['changed'] is False
    listing = task('info all')
    assert _listed(listing) == _klist_l(task('klist -l')) == {(alice, first['ccache']),
                                                              (bob, second['ccache'])}
    assert [c['ccache'] for c in _primary(listing)] == [first['ccache']]
    assert 'Ticket cache: %s' % first['ccache'] in task('klist')['stdout']
    klist_all = task('klist -A')['stdout']
    for cache in listing['caches']:
        assert cache['state'] == 'present' and cache['tgt_valid'], cache
        assert 'Ticket cache: %s\nDefault principal: %s' % (cache['ccache'], cache['principal']) \
            in klist_all
        for ticket in cache['tickets']:
            assert ticket['server'] in klist_all
    member = task('info member')
    assert member['ccache'] == first['ccache'] and member['principal'] == alice
    assert _listed(member) == _listed(listing)
    destroy_check = task('destroy check')
    assert destroy_check['changed'] and sorted(destroy_check['destroyed']) == \
        sorted([first['ccache'], second['ccache']])
    assert len(_klist_l(task('klist -l after check'))) == 2
    destroyed = task('destroy')
    assert destroyed['changed'] and len(destroyed['destroyed']) == 2
    assert task('destroy again')['changed'] is False
    assert task('info after destroy')['caches'] == []
    kinit = _klist_l(task('klist -l of kinit'))
    assert {row[0] for row in kinit} == {bob, kdc.principal('robot')}
    assert _listed(task('info of kinit')) == kinit
    assert task('destroy kinit')['changed'] and len(task('destroy kinit')['destroyed']) == 2
    assert _klist_l(task('klist -l after destroy')) == set()
    assert task('kdestroy -A')['rc'] == 0
    assert task('info after kdestroy')['caches'] == []
    assert task('destroy after kdestroy')['changed'] is False


def _check_short(run, kdc, prefix, p='stock ', mit=False):
    def task(name):
        return run.task(p + name)
    first, second = task('alice'), task('bob switched')
    assert first['changed'] and second['changed'] and first['ccache'] != second['ccache']
    assert first['ccache'].startswith(prefix) and second['ccache'].startswith(prefix)
    assert task('alice again')['changed'] is False
    assert task('alice again')['ccache'] == first['ccache']
    listing = task('info all')
    assert _listed(listing) == _klist_l(task('klist -l')) == {
        (kdc.principal('alice'), first['ccache']), (kdc.principal('bob'), second['ccache'])}
    assert [c['ccache'] for c in _primary(listing)] == [second['ccache']]
    assert 'Ticket cache: %s' % second['ccache'] in task('klist')['stdout']
    assert all(c['tgt_valid'] and c['tickets'] for c in listing['caches'])
    assert sorted(task('destroy')['destroyed']) == sorted([first['ccache'], second['ccache']])
    assert _klist_l(task('klist -l after destroy')) == set()
    assert task('destroy again')['changed'] is False
    if mit:
        kinit = _klist_l(task('klist -l of kinit'))
        assert [row[0] for row in kinit] == [kdc.principal('bob')]
        assert _listed(task('info of kinit')) == kinit
        assert task('kdestroy -A')['rc'] == 0
        assert task('info after kdestroy')['caches'] == []


def test_dir_collection(kdc, tmp_path):
    """DIR: the whole scenario; a new directory is 0700 with owner and group, the cache files
    0600; unsafe directories are refused; switch on a FILE: cache fails before anything."""
    col = 'DIR:%s' % (tmp_path / 'col')
    shared = hostile.shared_dir(str(tmp_path / 'shared'))
    os.symlink(str(tmp_path / 'elsewhere'), str(tmp_path / 'linkdir'))
    (tmp_path / 'elsewhere').mkdir(mode=0o700)
    unsafe = [
        _module('into a world-writable directory', 'krb5_ticket',
                dict(_user(kdc, 'alice'), ccache='DIR:' + shared), ignore_errors=True),
        _module('into a linked directory', 'krb5_ticket',
                dict(_user(kdc, 'alice'), ccache='DIR:%s' % (tmp_path / 'linkdir')),
                ignore_errors=True),
        _module('mode of the files', 'krb5_ticket',
                dict(_user(kdc, 'bob'), ccache=col, mode='0600')),
        _module('owned by nobody', 'krb5_ticket',
                dict(_user(kdc, 'bob'), ccache='DIR:%s' % (tmp_path / 'nobody'), owner='nobody',
                     group='nogroup')),
        _module('switch on a file cache', 'krb5_ticket',
                dict(_user(kdc, 'bob'), ccache='FILE:%s' % (tmp_path / 'plain'), switch=True),
                ignore_errors=True),
    ]
    run = _run(kdc, tmp_path, _scenario(kdc, col) + unsafe)
    _check_scenario(run, kdc, 'DIR::%s/tkt' % (tmp_path / 'col'))
    for name, reason in (('into a world-writable directory', 'group or others may write'),
                         ('into a linked directory', 'symbolic link')):
        result = run.task(name)
        assert result['error']['class'] == 'FileWriteError' and reason in result['msg'], result
    assert os.listdir(shared) == [] and os.listdir(str(tmp_path / 'elsewhere')) == []
    directory = tmp_path / 'col'
    assert oct(directory.stat().st_mode & 0o777) == '0o700'
    member = run.task('mode of the files')['ccache']
    assert oct(os.lstat(member[len('DIR::'):]).st_mode & 0o777) == '0o600'
    nobody = os.lstat(str(tmp_path / 'nobody'))
    assert (nobody.st_uid, nobody.st_gid, oct(nobody.st_mode & 0o777)) == (65534, 65534, '0o700')
    member = os.lstat(run.task('owned by nobody')['ccache'][len('DIR::'):])
    assert (member.st_uid, member.st_gid, oct(member.st_mode & 0o777)) == (65534, 65534, '0o600')
    wrong = run.task('switch on a file cache')
    assert wrong['error']['class'] == 'InvalidInputError' and 'collection' in wrong['msg']
    assert not (tmp_path / 'plain').exists()


def test_dir_collection_planted_link_is_listed_not_read(kdc, tmp_path):
    """A link among the tkt* files: krb5_ticket_info all lists it as invalid (unsafe) and
    never reads the cache it points to; state=absent all removes the link, not its target."""
    victim = str(tmp_path / 'root-cc')
    assert kdc.kinit('alice', 'FILE:' + victim).returncode == 0
    before = hostile.facts(victim)
    directory = tmp_path / 'col'
    directory.mkdir(mode=0o700)
    os.symlink(victim, str(directory / 'tktplanted'))
    col = 'DIR:%s' % directory
    run = _run(kdc, tmp_path, [
        _module('info', 'krb5_ticket_info', {'ccache': col, 'all': True}),
        _module('destroy', 'krb5_ticket', {'ccache': col, 'state': 'absent', 'all': True})])
    cache, = run.task('info')['caches']
    assert cache['state'] == 'invalid' and cache['principal'] is None, cache
    assert 'symbolic link' in cache['read_error'] and cache['tickets'] == []
    assert run.task('destroy')['destroyed'] == ['DIR::%s/tktplanted' % directory]
    assert os.listdir(str(directory)) == [] and hostile.facts(victim) == before


@pytest.fixture
def keyring_uid():
    reason = _keyring_blocked()
    if reason:
        pytest.skip(reason)
    with hostile.attacker_user() as (_name, uid, _gid):
        yield uid


def test_keyring_persistent_and_session_collections(kdc, tmp_path, keyring_uid):
    """KEYRING:persistent:UID (of a throwaway uid) with pykrb5, KEYRING:session:NAME (unique
    name) with the system Python's libkrb5 binding when there is one, else with pykrb5."""
    persistent = 'KEYRING:persistent:%d' % keyring_uid
    session = 'KEYRING:session:hostsec_%s' % uuid.uuid4().hex[:8]
    tasks = (_short(kdc, persistent, None, 'persistent ', mit=True)
             + _short(kdc, session, _stock_python(), 'session ', mit=True))
    try:
        run = _run(kdc, tmp_path, tasks)
    finally:
        for col in (persistent, session):
            subprocess.run(['kdestroy', '-A'], env=kdc.client_env(KRB5CCNAME=col),
                           capture_output=True, check=False)
    _check_short(run, kdc, persistent + ':', 'persistent ', mit=True)
    _check_short(run, kdc, session + ':', 'session ', mit=True)


@pytest.fixture(scope='module')
def kcm(tmp_path_factory):
    reason = kcm_service.unavailable()
    if reason:
        pytest.skip(reason)
    with kcm_service.KcmService(str(tmp_path_factory.mktemp('kcm'))) as service:
        yield service


def test_kcm_collection(kdc, kcm, tmp_path):
    """KCM: through Heimdal's kcm on a private socket (kcm_socket in krb5.conf), with pykrb5
    and with the system Python's libkrb5 binding."""
    env = {'KRB5_CONFIG': kcm.config_path(kdc.krb5_conf)}
    interpreter = _stock_python()
    tasks = _short(kdc, 'KCM:', None, 'venv ', mit=True)
    if interpreter:
        tasks += _short(kdc, 'KCM:', interpreter, 'stock ')
    run = _run(kdc, tmp_path, tasks, env=env)
    _check_short(run, kdc, 'KCM:', 'venv ', mit=True)
    if interpreter:
        _check_short(run, kdc, 'KCM:', 'stock ')
