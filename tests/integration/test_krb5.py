# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_ticket, krb5_ticket_info and krb5_keytab_info against a real MIT KDC.

One throwaway realm (tests/harness/services/krb5.py) for the whole file; its KDC listens on
127.0.0.1 on a free port. Tests that stop the KDC or restart it with a skewed clock restore it.
"""

import hashlib
import json
import os
import subprocess
import time
from datetime import datetime, timezone

import pytest

from harness import ansible
from harness import attacker as hostile
from harness.services.krb5 import USERS, Krb5Service, faketime_library

pytestmark = pytest.mark.slow

TARGETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'targets')
SECRETS = sorted(USERS.values())


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5'))) as service:
        yield service


@pytest.fixture
def kdc_up(kdc):
    """The KDC, restarted normally after the test whatever the test did to it."""
    yield kdc
    if kdc.kdc is None or kdc.kdc.popen.poll() is not None:
        kdc.stop_kdc()
        kdc.start_kdc()


def _playbook(path, tasks):
    with open(path, 'w') as handle:
        json.dump([{'name': 'krb5 test', 'hosts': 'localhost', 'gather_facts': False,
                    'tasks': tasks}], handle)
    return str(path)


def _vars_file(directory, variables):
    """``-e @file`` arguments: at -vvvv ansible prints inline extra vars, passwords included."""
    path = os.path.join(str(directory), 'vars.json')
    with open(path, 'w') as handle:
        json.dump(variables, handle)
    os.chmod(path, 0o600)
    return ['-e', '@' + path]


def _adhoc(kdc, module, args, **kwargs):
    return ansible.run_adhoc('hostsec.mgmt.' + module, json.dumps(args), env=kdc.env, **kwargs)


def _no_secret(run):
    for secret in SECRETS:
        assert secret not in run.output, 'a password appears in the output:\n' + run.explain()


def _sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.parametrize('target', ['krb5_ticket', 'krb5_keytab_info'])
def test_target(kdc_up, tmp_path, target):
    """The playbook target, at -vvvv: it passes, and no password appears anywhere."""
    workdir = tmp_path / 'work'
    workdir.mkdir()
    playbook = _playbook(tmp_path / 'play.json', [{
        'name': 'run the target',
        'ansible.builtin.include_tasks': os.path.join(TARGETS, target, 'tasks', 'main.yml')}])
    extra = dict(kdc_up.ansible_vars(), krb5_test_dir=str(workdir))
    run = ansible.run_playbook(playbook, verbosity=4, args=_vars_file(tmp_path, extra))
    assert run.rc == 0, run.explain()
    assert run.recap['localhost']['failed'] == 0, run.explain()
    _no_secret(run)


def _ticket_args(kdc, ccache, user='alice', **extra):
    args = {'principal': kdc.principal(user), 'password': USERS[user], 'ccache': ccache}
    args.update(extra)
    return args


def test_no_change_run_contacts_no_kdc(kdc_up, tmp_path):
    """Acquire, stop the KDC, run again: no change, no failure. A forced run then fails with
    KRB5_KDC_UNREACH and leaves the valid cache as it was."""
    kdc = kdc_up
    path = str(tmp_path / 'cc')
    args = _ticket_args(kdc, 'FILE:' + path)
    first = _adhoc(kdc, 'krb5_ticket', args)
    assert first.rc == 0 and first.results[0]['result']['changed'], first.explain()
    digest = _sha(path)
    requests_before = kdc.kdc_log().count('AS_REQ')
    kdc.stop_kdc()
    second = _adhoc(kdc, 'krb5_ticket', args)
    assert second.rc == 0, second.explain()
    result = second.results[0]['result']
    assert result['changed'] is False and result['action'] == 'none'
    assert result['end'] == first.results[0]['result']['end']
    checked = _adhoc(kdc, 'krb5_ticket', args, check=True)
    assert checked.rc == 0 and checked.results[0]['result']['changed'] is False, checked.explain()
    forced = _adhoc(kdc, 'krb5_ticket', dict(args, force=True))
    assert forced.rc != 0, forced.explain()
    error = forced.results[0]['result']['error']
    assert error['class'] == 'KdcUnreachableError' and error['name'] == 'KRB5_KDC_UNREACH'
    assert _sha(path) == digest, 'the failed acquisition changed the cache'
    assert kdc.klist('-s', '-c', 'FILE:' + path).returncode == 0
    kdc.start_kdc()
    assert kdc.kdc_log().count('AS_REQ') == requests_before
    _no_secret(forced)


def _klist_end(kdc, ccache):
    """The TGT's end time as MIT klist prints it (C locale, UTC)."""
    proc = subprocess.run(['klist', '-c', ccache], env=kdc.client_env(LC_ALL='C', TZ='UTC'),
                          capture_output=True, text=True, check=True)
    for line in proc.stdout.splitlines():
        if 'krbtgt/' in line:
            fields = line.split()
            return proc.stdout, datetime.strptime(
                '%s %s' % (fields[2], fields[3]), '%m/%d/%y %H:%M:%S').replace(tzinfo=timezone.utc)
    raise AssertionError('no TGT in klist output:\n' + proc.stdout)


def test_klist_sees_the_ticket_we_store(kdc_up, tmp_path):
    kdc = kdc_up
    ccache = 'FILE:%s' % (tmp_path / 'cc')
    run = _adhoc(kdc, 'krb5_ticket', _ticket_args(kdc, ccache, lifetime='3h'))
    assert run.rc == 0, run.explain()
    result = run.results[0]['result']
    text, end = _klist_end(kdc, ccache)
    assert 'Default principal: %s' % kdc.principal('alice') in text
    assert end.strftime('%Y-%m-%dT%H:%M:%SZ') == result['end']
    # And the other way round: a ticket kinit stored is what krb5_ticket_info reports.
    other = 'FILE:%s' % (tmp_path / 'kinit-cc')
    assert kdc.kinit('bob', other, lifetime='2h').returncode == 0
    info = _adhoc(kdc, 'krb5_ticket_info', {'ccache': other})
    assert info.rc == 0, info.explain()
    reported = info.results[0]['result']
    assert reported['principal'] == kdc.principal('bob')
    assert reported['tgt']['end'] == _klist_end(kdc, other)[1].strftime('%Y-%m-%dT%H:%M:%SZ')


def test_cache_file_mode_owner_and_atomic_replacement(kdc_up, tmp_path):
    kdc = kdc_up
    path = tmp_path / 'cc'
    args = _ticket_args(kdc, 'FILE:%s' % path, owner='nobody', group='nogroup', mode='0640')
    run = _adhoc(kdc, 'krb5_ticket', args)
    assert run.rc == 0, run.explain()
    st = os.stat(path)
    assert oct(st.st_mode & 0o777) == '0o640'
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.hostsec-krb5-')]
    again = _adhoc(kdc, 'krb5_ticket', args)
    assert again.results[0]['result']['changed'] is False, again.explain()
    # A cache the group could read (0640) is not kept when 0600 is wanted: a new one replaces it.
    mode = _adhoc(kdc, 'krb5_ticket', dict(args, mode='0600'), diff=True)
    result = mode.results[0]['result']
    assert result['changed'] and result['action'] == 'acquire', mode.explain()
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    # A mode that only differs for the owner is fixed in place, through a descriptor.
    os.chmod(path, 0o400)
    inode = os.stat(path).st_ino
    mode = _adhoc(kdc, 'krb5_ticket', dict(args, mode='u=rw'), diff=True)
    result = mode.results[0]['result']
    assert result['changed'] and result['action'] == 'attributes', mode.explain()
    assert oct(os.stat(path).st_mode & 0o777) == '0o600' and os.stat(path).st_ino == inode
    # A wrong password on a forced run fails and keeps the cache byte for byte.
    digest = _sha(path)
    wrong_args = dict(args, password='wrong-password', force=True, mode='0600')
    wrong = _adhoc(kdc, 'krb5_ticket', wrong_args)
    assert wrong.rc != 0
    assert wrong.results[0]['result']['error']['name'] == 'KRB5KDC_ERR_PREAUTH_FAILED'
    assert _sha(path) == digest
    # A file that is not a cache is replaced by a new one.
    path.write_bytes(b'not a credential cache')
    fixed = _adhoc(kdc, 'krb5_ticket', dict(args, mode='0600'))
    assert fixed.results[0]['result']['action'] == 'acquire', fixed.explain()
    assert kdc.klist('-s', '-c', 'FILE:%s' % path).returncode == 0


FAILURES = [
    ('expired', dict(user='expired'), 'PrincipalExpiredError', 'KRB5KDC_ERR_NAME_EXP'),
    ('password expired', dict(user='pwexpired'), 'PasswordExpiredError', 'KRB5KDC_ERR_KEY_EXP'),
    ('unknown principal', dict(principal='nobody-here@HOSTSEC.TEST'),
     'PrincipalUnknownError', 'KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN'),
    ('wrong password', dict(password='wrong-password'), 'PreauthFailedError',
     'KRB5KDC_ERR_PREAUTH_FAILED'),
    ('missing keytab', dict(keytab='/nonexistent/robot.keytab', password=None),
     'KeytabError', 'KRB5_KT_NOTFOUND'),
    ('keytab without the key', dict(keytab='service', password=None), 'KeytabError',
     'KRB5_KT_NOTFOUND'),
    ('no such cache to renew', dict(password=None, ccache='FILE:/nonexistent/dir/cc'),
     'InvalidInputError', None),
]


def test_failures_are_named(kdc_up, tmp_path):
    """Every failure in one playbook run (at -vvvv): class and Kerberos name, no secret."""
    kdc = kdc_up
    tasks = []
    for label, change, _cls, _name in FAILURES:
        change = dict(change)
        user = change.pop('user', 'alice')
        args = _ticket_args(kdc, 'FILE:%s' % (tmp_path / label.replace(' ', '-')), user=user)
        if change.get('keytab') == 'service':
            change['keytab'] = kdc.keytabs['service']
            change['principal'] = kdc.principal('robot')
        args.update(change)
        args = {k: v for k, v in args.items() if v is not None}
        args['krb5_config'] = kdc.krb5_conf
        tasks.append({'name': label, 'hostsec.mgmt.krb5_ticket': args, 'ignore_errors': True})
    run = ansible.run_playbook(_playbook(tmp_path / 'play.json', tasks), verbosity=4)
    for label, _change, cls, name in FAILURES:
        result = run.task(label)
        status = [r['status'] for r in run.results if r['task'] == label]
        assert status == ['ignored'], (label, result)
        assert result['error']['class'] == cls, (label, result)
        assert result['error']['name'] == name, (label, result)
        assert result['msg'].startswith(cls + ': '), (label, result)
        assert 'Traceback' not in result['msg'] + str(result.get('exception')), (label, result)
    _no_secret(run)


@pytest.mark.skipif(faketime_library() is None, reason='libfaketime (Debian faketime) missing')
def test_clock_skew(kdc_up, tmp_path):
    """A KDC whose clock is 2 hours ahead (libfaketime preloaded into krb5kdc only)."""
    kdc = kdc_up
    kdc.restart_kdc('+2h')
    try:
        run = _adhoc(kdc, 'krb5_ticket', _ticket_args(kdc, 'FILE:%s' % (tmp_path / 'cc')))
        keytab = _adhoc(kdc, 'krb5_ticket', {'principal': kdc.principal('robot'),
                                             'keytab': kdc.keytabs['robot'],
                                             'ccache': 'FILE:%s' % (tmp_path / 'robot')})
    finally:
        kdc.restart_kdc()
    for attempt in (run, keytab):
        assert attempt.rc != 0, attempt.explain()
        error = attempt.results[0]['result']['error']
        assert (error['class'], error['name']) == ('ClockSkewError', 'KRB5KRB_AP_ERR_SKEW')
    assert not (tmp_path / 'cc').exists()
    # The same request with the KDC's clock right works.
    again = _adhoc(kdc, 'krb5_ticket', _ticket_args(kdc, 'FILE:%s' % (tmp_path / 'cc')))
    assert again.rc == 0, again.explain()


@pytest.mark.skipif(faketime_library() is None, reason='libfaketime (Debian faketime) missing')
def test_validation_before_the_kdc_agrees_waits(kdc_up, tmp_path):
    """A postdated TGT due by this host's clock but not yet by the KDC's (its clock a minute
    behind, within the allowed skew): the KDC refuses to validate it (KRB5KRB_AP_ERR_TKT_NYV);
    the run reports that it waits (unchanged, the cache untouched), and validates once the KDC
    agrees."""
    kdc = kdc_up
    cache = tmp_path / 'post'
    args = _ticket_args(kdc, 'FILE:%s' % cache, start_time='2s', validate=True)
    first = _adhoc(kdc, 'krb5_ticket', args)
    assert first.rc == 0 and first.results[0]['result']['action'] == 'acquire', first.explain()
    before = _sha(str(cache))
    kdc.restart_kdc('-1m')
    try:
        time.sleep(3)
        early = _adhoc(kdc, 'krb5_ticket', args, diff=True)
    finally:
        kdc.restart_kdc()
    assert early.rc == 0, early.explain()
    result = early.results[0]['result']
    assert result['changed'] is False and result['action'] == 'none', result
    assert 'KRB5KRB_AP_ERR_TKT_NYV' in result['reason'], result
    assert 'the KDC refused to validate' in early.stdout + early.stderr, early.explain()
    assert 'invalid' in result['flags'], result
    assert result['diff']['before'] == result['diff']['after'], result
    assert _sha(str(cache)) == before
    due = _adhoc(kdc, 'krb5_ticket', args)
    result = due.results[0]['result']
    assert due.rc == 0 and result['action'] == 'validate' and result['changed'], due.explain()
    assert 'invalid' not in result['flags'], result


def test_renewal_and_reacquisition_by_min_lifetime(kdc_up, tmp_path):
    kdc = kdc_up
    ccache = 'FILE:%s' % (tmp_path / 'cc')
    # Not renewable: below min_lifetime a new ticket is acquired.
    args = _ticket_args(kdc, ccache, lifetime='2h', min_lifetime='1h')
    first = _adhoc(kdc, 'krb5_ticket', args).results[0]['result']
    assert first['renewable'] is False and first['renew_till'] is None
    stricter = _adhoc(kdc, 'krb5_ticket', dict(args, lifetime='3h', min_lifetime='150m'))
    result = stricter.results[0]['result']
    assert result['action'] == 'acquire' and 'cannot be renewed' in result['reason'], result
    # Renewable wanted but the TGT is not: a new, renewable one.
    renewable = _adhoc(kdc, 'krb5_ticket', dict(args, renewable=True, renew_lifetime='1d'))
    result = renewable.results[0]['result']
    assert result['action'] == 'acquire' and result['renewable'] is True, result
    # Renewable: renewed without the password.
    no_password = {'principal': kdc.principal('alice'), 'ccache': ccache, 'min_lifetime': '5h'}
    renewed = _adhoc(kdc, 'krb5_ticket', no_password)
    result = renewed.results[0]['result']
    assert result['action'] == 'renew', renewed.explain()
    assert any('less than min_lifetime' in w for w in renewed.results[0]['result'].get(
        'warnings', [])) or 'less than min_lifetime' in renewed.stdout + renewed.stderr


def test_ticket_info_of_missing_cache(kdc_up, tmp_path):
    kdc = kdc_up
    run = _adhoc(kdc, 'krb5_ticket_info', {'ccache': 'FILE:%s' % (tmp_path / 'none')})
    result = run.results[0]['result']
    assert run.rc == 0 and result['exists'] is False and result['state'] == 'absent'
    strict = _adhoc(kdc, 'krb5_ticket_info', {'ccache': 'FILE:%s' % (tmp_path / 'none'),
                                              'fail_if_missing': True})
    assert strict.rc != 0
    assert strict.results[0]['result']['error']['name'] == 'KRB5_FCC_NOFILE'


def test_ticket_info_of_a_file_that_is_not_a_cache(kdc_up, tmp_path):
    """Something is there, but it is not a credential cache: exists is false, state invalid."""
    kdc = kdc_up
    path = tmp_path / 'garbage'
    path.write_bytes(b'this is not a credential cache')
    run = _adhoc(kdc, 'krb5_ticket_info', {'ccache': 'FILE:%s' % path})
    assert run.rc == 0, run.explain()
    result = run.results[0]['result']
    assert result['exists'] is False and result['state'] == 'invalid', run.explain()
    assert result['read_error'] and result['tgt_valid'] is False
    strict = _adhoc(kdc, 'krb5_ticket_info', {'ccache': 'FILE:%s' % path, 'fail_if_missing': True})
    assert strict.rc != 0
    error = strict.results[0]['result']['error']
    assert error['class'] == 'CcacheNotFoundError' and error['name'].startswith('KRB5_'), \
        strict.explain()
    assert 'is not a credential cache' in strict.results[0]['result']['msg']


@pytest.fixture
def attacker():
    with hostile.attacker_user() as user:
        yield user


def test_planted_cache_files_are_replaced_never_followed_nor_chowned(kdc_up, tmp_path, attacker):
    """A second uid plants, in a sticky world-writable directory, a link to root's real cache,
    a cache file of its own and a cache file its group may read. Run as root, the module
    replaces each with a new root-owned 0600 cache and never touches root's cache."""
    kdc = kdc_up
    _name, uid, gid = attacker
    victim = str(tmp_path / 'root-krb5cc')
    assert kdc.kinit('alice', 'FILE:' + victim).returncode == 0
    os.chmod(victim, 0o600)
    victim_before = hostile.facts(victim)
    with open(victim, 'rb') as handle:
        victim_bytes = handle.read()
    shared = hostile.shared_dir(str(tmp_path / 'shared'))
    link = os.path.join(shared, 'krb5cc_link')
    hostile.plant_link(link, victim, uid, gid)
    foreign = os.path.join(shared, 'krb5cc_foreign')
    hostile.plant_file(foreign, victim_bytes, uid, gid)
    exposed = os.path.join(shared, 'krb5cc_exposed')
    hostile.plant_file(exposed, victim_bytes, 0, gid, mode=0o640)

    # Without a password nothing can be replaced: a clear failure, and nothing is touched.
    stuck = _adhoc(kdc, 'krb5_ticket', {'principal': kdc.principal('alice'), 'ccache': 'FILE:' + link})
    assert stuck.rc != 0
    assert stuck.results[0]['result']['error']['class'] == 'InvalidInputError', stuck.explain()
    assert 'symbolic link' in stuck.results[0]['result']['msg']
    assert hostile.facts(link) == ('link', uid, gid, victim)

    for path, why in ((link, 'symbolic link'), (foreign, 'another user'),
                      (exposed, 'group or others')):
        run = _adhoc(kdc, 'krb5_ticket', _ticket_args(kdc, 'FILE:' + path), diff=True)
        assert run.rc == 0, run.explain()
        result = run.results[0]['result']
        assert result['action'] == 'acquire' and why in result['reason'], run.explain()
        kind, owner, group, mode, digest = hostile.facts(path)
        assert (kind, owner, group, mode) == ('file', 0, 0, 0o600), path
        assert digest != victim_before[4], path
        assert kdc.klist('-s', '-c', 'FILE:' + path).returncode == 0
        assert hostile.facts(victim) == victim_before
        again = _adhoc(kdc, 'krb5_ticket', _ticket_args(kdc, 'FILE:' + path))
        assert again.results[0]['result']['changed'] is False, again.explain()
    assert not [p for p in os.listdir(shared) if p.startswith('.')]


def test_destroying_a_planted_link_removes_the_link_not_its_target(kdc_up, tmp_path, attacker):
    """kdestroy (the library's cc_destroy) zeroes the file a FILE: name leads to, through a
    link. state=absent removes the name itself: root's cache behind a planted link survives."""
    kdc = kdc_up
    _name, uid, gid = attacker
    victim = str(tmp_path / 'root-krb5cc')
    assert kdc.kinit('alice', 'FILE:' + victim).returncode == 0
    victim_before = hostile.facts(victim)
    shared = hostile.shared_dir(str(tmp_path / 'shared'))
    link = os.path.join(shared, 'krb5cc_link')
    hostile.plant_link(link, victim, uid, gid)
    collection = hostile.shared_dir(str(tmp_path / 'collection'))
    hostile.plant_link(os.path.join(collection, 'tktplanted'), victim, uid, gid)
    for args in ({'ccache': 'FILE:' + link, 'state': 'absent'},
                 {'ccache': 'DIR:' + collection, 'state': 'absent'}):
        run = _adhoc(kdc, 'krb5_ticket', args)
        assert run.rc == 0, run.explain()
        assert run.results[0]['result']['changed'] is True, run.explain()
        assert hostile.facts(victim) == victim_before
    assert not os.path.lexists(link)
    assert os.listdir(collection) == []
    assert kdc.klist('-s', '-c', 'FILE:' + victim).returncode == 0


def _keyring_usable():
    import ctypes  # pylint: disable=import-outside-toplevel
    import platform  # pylint: disable=import-outside-toplevel
    number = {'x86_64': 250, 'aarch64': 219}.get(platform.machine())
    if number is None:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create=1)
        return libc.syscall(number, 0, -3, 1) > 0
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not _keyring_usable(), reason='the kernel keyring is not available here')
def test_keyring_cache_through_the_library(kdc_up, monkeypatch):
    """KEYRING: caches are written by the library (in this process: a session keyring)."""
    from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import ticket
    for name, value in kdc_up.env.items():
        monkeypatch.setenv(name, value)
    name = 'KEYRING:session:hostsec_test_%d' % os.getpid()
    request = ticket.TicketRequest(ccache=name, principal='alice', password=USERS['alice'])
    first = ticket.present(request)
    try:
        assert first['action'] == 'acquire' and first['ccache'].startswith(name + ':')
        again = ticket.present(ticket.TicketRequest(ccache=name, principal='alice'))
        assert again['action'] == 'none' and again['end'] == first['end']
        listed = kdc_up.klist('-c', first['ccache'])
        assert 'Default principal: %s' % kdc_up.principal('alice') in listed.stdout
    finally:
        gone = ticket.absent(ticket.TicketRequest(ccache=name, principal='alice'))
    assert gone['destroyed'] == [first['ccache']]
    assert ticket.absent(ticket.TicketRequest(ccache=name, principal='alice'))['changed'] is False


def _klist_flags(kdc, ccache):
    """``(default principal, TGT flags)`` as ``klist -f`` prints them."""
    proc = subprocess.run(['klist', '-f', '-c', ccache], env=kdc.client_env(LC_ALL='C'),
                          capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    principal = [line.split(': ', 1)[1] for line in lines if line.startswith('Default principal')]
    flags = [line.split(':', 1)[1].strip() for line in lines if line.strip().startswith('Flags:')]
    return principal[0], flags[0]


def test_pkinit_matches_kinit_and_fails_clearly(kdc_up, tmp_path):
    """krb5_ticket with pkinit_identity/pkinit_anchors gets the same client and flags as
    ``kinit -X X509_user_identity=... -X X509_anchors=... -f``; a missing key file and a wrong
    anchor fail with the error class and Kerberos name; the key never appears in the output."""
    kdc = kdc_up
    if not kdc.pkinit:
        pytest.skip('the krb5-pkinit plugin is not installed (Debian package krb5-pkinit)')
    identity, anchors = kdc.pkinit['alice']['identity'], 'FILE:' + kdc.pkinit['ca']
    base = {'principal': kdc.principal('alice'), 'krb5_config': kdc.krb5_conf,
            'pkinit_identity': identity, 'pkinit_anchors': anchors, 'forwardable': True}
    ours = 'FILE:%s' % (tmp_path / 'module.cc')
    tasks = [
        {'name': 'pkinit', 'hostsec.mgmt.krb5_ticket': dict(base, ccache=ours)},
        {'name': 'missing key', 'ignore_errors': True, 'hostsec.mgmt.krb5_ticket': dict(
            base, ccache='FILE:%s' % (tmp_path / 'nokey.cc'),
            pkinit_identity='FILE:%s,%s' % (kdc.pkinit['alice']['cert'], tmp_path / 'no.key'))},
        {'name': 'wrong anchor', 'ignore_errors': True, 'hostsec.mgmt.krb5_ticket': dict(
            base, ccache='FILE:%s' % (tmp_path / 'anchor.cc'),
            pkinit_anchors='FILE:' + kdc.pkinit['alice']['cert'])},
    ]
    run = ansible.run_playbook(_playbook(tmp_path / 'play.json', tasks), verbosity=4)
    assert run.task('pkinit')['changed'], run.explain()
    theirs = 'FILE:%s' % (tmp_path / 'kinit.cc')
    kinit = subprocess.run(['kinit', '-f', '-c', theirs, '-X', 'X509_user_identity=' + identity,
                            '-X', 'X509_anchors=' + anchors, kdc.principal('alice')],
                           env=kdc.client_env(), capture_output=True, text=True, check=False)
    assert kinit.returncode == 0, kinit.stderr
    assert _klist_flags(kdc, ours) == _klist_flags(kdc, theirs)
    assert 'F' in _klist_flags(kdc, ours)[1]
    for label in ('missing key', 'wrong anchor'):
        result = run.task(label)
        assert [r['status'] for r in run.results if r['task'] == label] == ['ignored'], result
        assert result['msg'].startswith(result['error']['class'] + ': '), result
        assert result['error']['class'] == 'PreauthFailedError', result
        assert result['error']['name'] == 'KRB5_PREAUTH_FAILED', result
        assert 'Traceback' not in result['msg'] + str(result.get('exception')), result
        print(label, '->', result['msg'])
    with open(kdc.pkinit['alice']['key']) as handle:
        key = handle.read()
    body = key.split('-----')[2].strip().splitlines()[1]
    assert body not in run.output
