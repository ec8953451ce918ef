# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_keytab against a real MIT KDC and kadmind (tests/harness/services/krb5.py, with_kadmind).

One throwaway realm for the whole file; each test adds principals of its own with kadmin.local,
so the tests do not depend on each other. The module talks to kadmind over 127.0.0.1 with the
MIT kadmin client; the administrator's password reaches it through HOSTSEC_KRB5_KADMIN_PASSWORD
(never on a command line) and must never appear in any output.
"""

import json
import os
import re

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.keytabfile import parse
from harness import ansible
from harness import attacker as hostile
from harness.services.krb5 import (ADMIN_PASSWORD, NOEXTRACT_PASSWORD, USERS, Krb5Service)

pytestmark = pytest.mark.slow

SECRETS = sorted(list(USERS.values()) + [ADMIN_PASSWORD, NOEXTRACT_PASSWORD])


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5kt')), with_kadmind=True) as service:
        yield service


def _principal(kdc, name):
    """A new service principal with random keys (kvno 1), full name."""
    kdc.kadmin('addprinc -randkey %s' % name)
    return kdc.principal(name)


def _kdc_kvno(kdc, principal):
    match = re.search(r'^Key: vno (\d+),', kdc.kadmin('getprinc %s' % principal), re.M)
    return int(match.group(1))


def _base(kdc, **args):
    base = {'kadmin_principal': kdc.kadmin_vars()['krb5_admin_principal'],
            'kadmin_server': kdc.kadmin_vars()['krb5_admin_server'],
            'krb5_config': kdc.krb5_conf}
    base.update(args)
    return base


def _no_secret(run, *more):
    for secret in SECRETS + list(more):
        assert secret not in run.output, 'a password appears in the output:\n' + run.explain()


def _play(kdc, tmp_path, name, tasks):
    """One ansible-playbook run of ``tasks``: ``(task name, krb5_keytab args, keywords)``.

    The admin password reaches the module only through HOSTSEC_KRB5_KADMIN_PASSWORD; a task
    may set another environment in its keywords. Returns ``{task name: result}``.
    """
    play = []
    for task_name, args, keywords in tasks:
        task = {'name': task_name, 'hostsec.mgmt.krb5_keytab': _base(kdc, **args),
                'register': 'out', 'ignore_errors': True}
        task.update(keywords)
        play.append(task)
    path = str(tmp_path / ('%s.json' % name))
    with open(path, 'w') as handle:
        json.dump([{'name': name, 'hosts': 'localhost', 'gather_facts': False,
                    'tasks': play}], handle)
    run = ansible.run_playbook(path, env=dict(kdc.env, HOSTSEC_KRB5_KADMIN_PASSWORD=ADMIN_PASSWORD))
    _no_secret(run)
    return run, {task_name: run.task(task_name) for task_name, _a, _k in tasks}


def _entries(path):
    with open(path, 'rb') as handle:
        return parse(handle.read())


def _kvnos(path, principal):
    return sorted(set(e.kvno for e in _entries(path) if e.principal == principal))


def _initiate(kdc, monkeypatch, service):
    """An AP-REQ token from alice for ``service``, made in this process with python-gssapi."""
    import gssapi  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv('KRB5_CONFIG', kdc.krb5_conf)
    monkeypatch.setenv('KRB5RCACHENAME', 'none:')
    name = gssapi.Name(kdc.principal('alice'), gssapi.NameType.kerberos_principal)
    creds = gssapi.raw.acquire_cred_with_password(name, USERS['alice'].encode(),
                                                  usage='initiate').creds
    target = gssapi.Name(service, gssapi.NameType.kerberos_principal)
    ctx = gssapi.SecurityContext(name=target, creds=creds, usage='initiate',
                                 mech=gssapi.MechType.kerberos)
    return ctx.step()


def _accept(path, service, token):
    """Accept ``token`` with acceptor credentials from keytab ``path``: None, or the error."""
    import gssapi  # pylint: disable=import-outside-toplevel
    target = gssapi.Name(service, gssapi.NameType.kerberos_principal)
    creds = gssapi.raw.acquire_cred_from({'keytab': 'FILE:' + path}, target, usage='accept').creds
    try:
        gssapi.raw.accept_sec_context(token, acceptor_creds=creds)
    except gssapi.exceptions.GSSError as exc:
        return str(exc)
    return None


def test_fetch_no_change_and_stale_entry(kdc, tmp_path, monkeypatch):
    """Fetch into an empty keytab (klist -k and a handshake of our own agree), then runs that
    change nothing (no key change on the KDC, same bytes), then a stale entry (cpw -randkey
    behind the module's back) is fetched again with -norandkey, keeping the KDC's kvno."""
    principal = _principal(kdc, 'HTTP/fetch.hostsec.test')
    path = str(tmp_path / 'http.keytab')
    args = {'path': path, 'principals': ['HTTP/fetch.hostsec.test']}
    run, res = _play(kdc, tmp_path, 'fetch', [
        ('fetch', args, {'diff': True}),
        ('again', args, {}),
        ('again in check mode', args, {'check_mode': True})])
    assert run.rc == 0, run.explain()
    first = res['fetch']
    assert first['changed'] is True
    assert first['principals'][0]['action'] == 'fetch'
    assert first['principals'][0]['added_kvnos'] == [1]
    assert first['verification'][0]['success'] is True, first
    assert 'kvno 1 aes256-cts-hmac-sha1-96' in first['diff']['after']
    assert res['again']['changed'] is False, res['again']
    assert res['again']['principals'][0]['action'] == 'none'
    assert res['again']['verification'][0]['success'] is True
    assert res['again in check mode']['changed'] is False
    assert os.stat(path).st_mode & 0o777 == 0o600
    listing = kdc.klist('-k', '-e', path).stdout
    assert '1 %s (aes256-cts-hmac-sha1-96)' % principal in listing, listing
    assert _accept(path, principal, _initiate(kdc, monkeypatch, principal)) is None
    assert _kdc_kvno(kdc, principal) == 1, 'a run changed the key on the KDC'

    kdc.kadmin('cpw -randkey %s' % principal)
    run, res = _play(kdc, tmp_path, 'stale', [
        ('predict', args, {'check_mode': True, 'diff': True}),
        ('refresh', args, {})])
    assert run.rc == 0, run.explain()
    predicted, refreshed = res['predict'], res['refresh']
    assert predicted['changed'] is True and predicted['principals'][0]['action'] == 'fetch'
    assert predicted['principals'][0]['added_kvnos'] == [2]
    assert 'kvno 2 aes256-cts-hmac-sha1-96' in predicted['diff']['after']
    # The refresh found kvno 2 missing: check mode wrote nothing.
    assert refreshed['changed'] is True and refreshed['principals'][0]['added_kvnos'] == [2]
    assert refreshed['principals'][0]['randomized'] is False
    assert refreshed['verification'][0]['success'] is True
    assert _kvnos(path, principal) == [1, 2], 'the kvno 1 entries were touched'
    assert _kdc_kvno(kdc, principal) == 2, 'a -norandkey fetch changed the key on the KDC'


def test_rotation_keeps_the_previous_generation(kdc, tmp_path, monkeypatch):
    """A service ticket issued before a rotation is still accepted with the rotated keytab
    (keep_old_kvnos=1); after a second rotation that generation is gone and it is refused."""
    principal = _principal(kdc, 'HTTP/rotate.hostsec.test')
    path = str(tmp_path / 'rotate.keytab')
    args = {'path': path, 'principals': [principal]}
    token = _initiate(kdc, monkeypatch, principal)  # alice's ticket for kvno 1
    run, res = _play(kdc, tmp_path, 'rotate', [
        ('fetch', args, {}),
        ('rotate', dict(args, rotate=True, keep_old_kvnos=1), {'diff': True})])
    assert run.rc == 0, run.explain()
    assert res['fetch']['principals'][0]['added_kvnos'] == [1]
    rotated = res['rotate']
    assert rotated['changed'] is True and rotated['rotated'] is True
    item = rotated['principals'][0]
    assert item['action'] == 'rotate' and item['randomized'] is True
    assert item['added_kvnos'] == [2] and item['removed_kvnos'] == []
    assert item['kdc_kvno'] == 2 and _kdc_kvno(kdc, principal) == 2
    assert rotated['verification'][0]['success'] is True
    assert _kvnos(path, principal) == [1, 2]
    assert _accept(path, principal, token) is None, \
        'the ticket issued before the rotation was refused'

    run, res = _play(kdc, tmp_path, 'rotate-again', [
        ('rotate again', dict(args, rotate=True, keep_old_kvnos=1), {}),
        ('young keys', dict(args, max_key_age='1d'), {})])
    assert run.rc == 0, run.explain()
    assert res['rotate again']['principals'][0]['added_kvnos'] == [3]
    assert res['rotate again']['principals'][0]['removed_kvnos'] == [1]
    assert _kvnos(path, principal) == [2, 3]
    assert _accept(path, principal, token) is not None, 'kvno 1 should be gone from the keytab'
    assert res['young keys']['changed'] is False and res['young keys']['rotated'] is False


def test_absent_removes_only_that_principal(kdc, tmp_path):
    one = _principal(kdc, 'HTTP/one.hostsec.test')
    two = _principal(kdc, 'HTTP/two.hostsec.test')
    path = str(tmp_path / 'two.keytab')
    # The administrator authenticates with its keytab here (kadmin -k -t), no password.
    both = {'path': path, 'principals': [one, two], 'kadmin_keytab': kdc.keytabs['admin']}
    run, res = _play(kdc, tmp_path, 'both', [
        ('both', both, {'environment': {'HOSTSEC_KRB5_KADMIN_PASSWORD': ''}})])
    assert run.rc == 0, run.explain()
    assert [i['action'] for i in res['both']['principals']] == ['fetch', 'fetch']
    assert [v['success'] for v in res['both']['verification']] == [True, True]
    kept = [e.raw for e in _entries(path) if e.principal == two]
    assert kept
    absent = {'path': path, 'principals': [one], 'state': 'absent'}
    run, res = _play(kdc, tmp_path, 'absent', [
        ('predict', absent, {'check_mode': True, 'diff': True}),
        ('remove', absent, {}),
        ('again', absent, {})])
    assert run.rc == 0, run.explain()
    predicted = res['predict']
    assert predicted['changed'] is True and one in predicted['diff']['before']
    assert one not in predicted['diff']['after'] and two in predicted['diff']['after']
    # The real run still found the entries: check mode removed nothing.
    assert res['remove']['changed'] is True and res['remove']['principals'][0]['removed_kvnos'] == [1]
    assert [e.raw for e in _entries(path)] == kept, "the other principal's entries changed"
    assert res['again']['changed'] is False


def test_kadmin_failures_are_named(kdc, tmp_path):
    """A wrong admin password, and an admin without the extract privilege: clear failures with
    kadmin's message, no password in the output, no keytab written, no key changed."""
    principal = _principal(kdc, 'HTTP/fail.hostsec.test')
    path = str(tmp_path / 'fail.keytab')
    args = {'path': path, 'principals': [principal]}
    noextract = kdc.kadmin_vars()['krb5_noextract_admin_principal']
    run, res = _play(kdc, tmp_path, 'failures', [
        ('wrong password', args,
         {'environment': {'HOSTSEC_KRB5_KADMIN_PASSWORD': 'not-the-Adm1n-pw'}}),
        ('no extract privilege', dict(args, kadmin_principal=noextract),
         {'environment': {'HOSTSEC_KRB5_KADMIN_PASSWORD': NOEXTRACT_PASSWORD}})])
    _no_secret(run, 'not-the-Adm1n-pw')
    wrong = res['wrong password']
    assert run.recap['localhost']['ignored'] == 2, run.explain()
    assert wrong['error']['class'] == 'KadminAuthError', wrong
    assert wrong['error']['name'] == 'KADM5_BAD_PASSWORD'
    assert wrong['msg'].startswith('KadminAuthError: KADM5_BAD_PASSWORD: ')
    assert 'Incorrect password' in wrong['msg']
    refused = res['no extract privilege']
    assert refused['error']['class'] == 'KadminError', refused
    assert refused['error']['name'] == 'KADM5_AUTH_EXTRACT'
    assert not os.path.exists(path)
    assert _kdc_kvno(kdc, principal) == 1


@pytest.fixture
def attacker():
    with hostile.attacker_user() as user:
        yield user


def test_planted_link_and_foreign_keytab_are_replaced(kdc, tmp_path, attacker):
    """In a sticky world-writable directory a second uid plants a link to root's keytab and a
    keytab of its own. The module, as root, replaces each with a new root-owned 0600 keytab
    holding only the fetched keys; root's keytab behind the link is untouched and the planted
    entries are not kept."""
    _name, uid, gid = attacker
    principal = _principal(kdc, 'HTTP/planted.hostsec.test')
    victim = str(tmp_path / 'root.keytab')
    with open(kdc.keytabs['service'], 'rb') as handle:
        victim_bytes = handle.read()
    with open(victim, 'wb') as handle:
        handle.write(victim_bytes)
    os.chmod(victim, 0o600)
    victim_before = hostile.facts(victim)
    shared = hostile.shared_dir(str(tmp_path / 'shared'))
    link = os.path.join(shared, 'link.keytab')
    hostile.plant_link(link, victim, uid, gid)
    foreign = os.path.join(shared, 'foreign.keytab')
    hostile.plant_file(foreign, victim_bytes, uid, gid)
    run, res = _play(kdc, tmp_path, 'planted', [
        ('link', {'path': link, 'principals': [principal]}, {}),
        ('foreign', {'path': foreign, 'principals': [principal]}, {})])
    assert run.rc == 0, run.explain()
    for path, why in ((link, 'symlink'), (foreign, 'not_owner')):
        result = res['link' if path == link else 'foreign']
        assert result['replaced_untrusted'] == why, result
        kind, owner, group, mode, _digest = hostile.facts(path)
        assert (kind, owner, group, mode) == ('file', 0, 0, 0o600), path
        assert set(e.principal for e in _entries(path)) == {principal}, path
    assert hostile.facts(victim) == victim_before
    assert not [p for p in os.listdir(shared) if p.startswith('.')]
