# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_keytab against a real MIT KDC and kadmind (tests/harness/services/krb5.py, with_kadmind).

One throwaway realm for the whole file; each test adds principals of its own with kadmin.local,
so the tests do not depend on each other. The module talks to kadmind over 127.0.0.1 with the
MIT kadmin client; the administrator's password reaches it through HOSTSEC_KRB5_KADMIN_PASSWORD
(never on a command line) and must never appear in any output.
"""

import hashlib
import json
import os
import re
import subprocess

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


def _run(kdc, args, password=ADMIN_PASSWORD, **kwargs):
    """The module ad hoc; the admin password only through the environment."""
    base = {'kadmin_principal': kdc.kadmin_vars()['krb5_admin_principal'],
            'kadmin_server': kdc.kadmin_vars()['krb5_admin_server'],
            'krb5_config': kdc.krb5_conf}
    base.update(args)
    env = dict(kdc.env)
    if password is not None and 'kadmin_keytab' not in args:
        env['HOSTSEC_KRB5_KADMIN_PASSWORD'] = password
    run = ansible.run_adhoc('hostsec.mgmt.krb5_keytab', json.dumps(base), env=env, **kwargs)
    for secret in SECRETS + ([password] if password else []):
        assert secret not in run.output, 'a password appears in the output:\n' + run.explain()
    return run


def _result(run):
    return run.results[0]['result']


def _ok(run):
    assert run.rc == 0, run.explain()
    return _result(run)


def _sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _entries(path):
    with open(path, 'rb') as handle:
        return parse(handle.read())


def _kvnos(path, principal):
    return sorted(set(e.kvno for e in _entries(path) if e.principal == principal))


def test_fetch_no_change_and_stale_entry(kdc, tmp_path):
    """Fetch into an empty keytab (klist -k and a handshake agree), then a run that changes
    nothing (no key change on the KDC, same bytes), then a stale entry (cpw -randkey behind the
    module's back) is fetched again with -norandkey, keeping the KDC's kvno."""
    principal = _principal(kdc, 'HTTP/fetch.hostsec.test')
    path = str(tmp_path / 'http.keytab')
    args = {'path': path, 'principals': ['HTTP/fetch.hostsec.test']}

    first = _ok(_run(kdc, args, diff=True))
    assert first['changed'] is True
    assert first['principals'][0]['action'] == 'fetch'
    assert first['principals'][0]['added_kvnos'] == [1]
    assert first['verification'][0]['success'] is True, first
    assert 'kvno 1 aes256-cts-hmac-sha1-96' in first['diff']['after']
    assert os.stat(path).st_mode & 0o777 == 0o600
    listing = kdc.klist('-k', '-e', path).stdout
    assert '1 %s (aes256-cts-hmac-sha1-96)' % principal in listing, listing
    info = ansible.run_adhoc('hostsec.mgmt.krb5_keytab_info', json.dumps({
        'keytab': path, 'verify': True, 'initiator_principal': kdc.principal('alice'),
        'krb5_config': kdc.krb5_conf}), env=dict(kdc.env, HOSTSEC_KRB5_INITIATOR_PASSWORD=USERS['alice']))
    assert info.rc == 0 and _result(info)['verified'] is True, info.explain()
    assert _kdc_kvno(kdc, principal) == 1

    digest = _sha(path)
    again = _ok(_run(kdc, args))
    assert again['changed'] is False and again['principals'][0]['action'] == 'none', again
    assert again['verification'][0]['success'] is True
    checked = _ok(_run(kdc, args, check=True))
    assert checked['changed'] is False
    assert _sha(path) == digest and _kdc_kvno(kdc, principal) == 1

    kdc.kadmin('cpw -randkey %s' % principal)
    predicted = _ok(_run(kdc, args, check=True, diff=True))
    assert predicted['changed'] is True and predicted['principals'][0]['action'] == 'fetch'
    assert predicted['principals'][0]['added_kvnos'] == [2]
    assert _sha(path) == digest, 'check mode wrote the keytab'
    refreshed = _ok(_run(kdc, args))
    assert refreshed['changed'] is True
    assert refreshed['principals'][0]['added_kvnos'] == [2]
    assert refreshed['principals'][0]['randomized'] is False
    assert refreshed['verification'][0]['success'] is True
    assert _kvnos(path, principal) == [1, 2], 'the kvno 1 entries were touched'
    assert _kdc_kvno(kdc, principal) == 2, 'a -norandkey fetch changed the key on the KDC'


def _initiate(kdc, monkeypatch, service):
    """An AP-REQ token from alice for ``service`` (its ticket stays in alice's cache)."""
    import gssapi  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv('KRB5_CONFIG', kdc.krb5_conf)
    monkeypatch.setenv('KRB5RCACHENAME', 'none:')
    name = gssapi.Name(kdc.principal('alice'), gssapi.NameType.kerberos_principal)
    creds = gssapi.raw.acquire_cred_with_password(name, USERS['alice'].encode(), usage='initiate').creds
    target = gssapi.Name(service, gssapi.NameType.kerberos_principal)
    ctx = gssapi.SecurityContext(name=target, creds=creds, usage='initiate',
                                 mech=gssapi.MechType.kerberos)
    return ctx.step()


def _accept(path, service, token):
    """Accept ``token`` with acceptor credentials from keytab ``path``: None or the error."""
    import gssapi  # pylint: disable=import-outside-toplevel
    target = gssapi.Name(service, gssapi.NameType.kerberos_principal)
    creds = gssapi.raw.acquire_cred_from({'keytab': 'FILE:' + path}, target, usage='accept').creds
    try:
        gssapi.raw.accept_sec_context(token, acceptor_creds=creds)
    except gssapi.exceptions.GSSError as exc:
        return str(exc)
    return None


def test_rotation_keeps_the_previous_generation(kdc, tmp_path, monkeypatch):
    """A service ticket issued before a rotation is still accepted with the rotated keytab
    (keep_old_kvnos=1); after a second rotation that generation is gone and it is refused."""
    principal = _principal(kdc, 'HTTP/rotate.hostsec.test')
    path = str(tmp_path / 'rotate.keytab')
    args = {'path': path, 'principals': [principal]}
    _ok(_run(kdc, args))
    token = _initiate(kdc, monkeypatch, principal)
    assert _accept(path, principal, token) is None

    rotated = _ok(_run(kdc, dict(args, rotate=True, keep_old_kvnos=1), diff=True))
    assert rotated['changed'] is True and rotated['rotated'] is True
    item = rotated['principals'][0]
    assert item['action'] == 'rotate' and item['added_kvnos'] == [2] and item['removed_kvnos'] == []
    assert item['kdc_kvno'] == 2 and _kdc_kvno(kdc, principal) == 2
    assert rotated['verification'][0]['success'] is True
    assert _kvnos(path, principal) == [1, 2]
    assert _accept(path, principal, token) is None, 'the ticket issued before the rotation was refused'

    again = _ok(_run(kdc, dict(args, rotate=True, keep_old_kvnos=1)))
    assert again['principals'][0]['added_kvnos'] == [3]
    assert again['principals'][0]['removed_kvnos'] == [1]
    assert _kvnos(path, principal) == [2, 3]
    refused = _accept(path, principal, token)
    assert refused is not None, 'kvno 1 should be gone from the keytab'

    # max_key_age: keys younger than a day are kept, an age of 0 seconds... is not: 1s ago.
    young = _ok(_run(kdc, dict(args, max_key_age='1d')))
    assert young['changed'] is False and young['rotated'] is False


def test_absent_removes_only_that_principal(kdc, tmp_path):
    one = _principal(kdc, 'HTTP/one.hostsec.test')
    two = _principal(kdc, 'HTTP/two.hostsec.test')
    path = str(tmp_path / 'two.keytab')
    both = _ok(_run(kdc, {'path': path, 'principals': [one, two]}))
    assert [i['action'] for i in both['principals']] == ['fetch', 'fetch']
    kept = [e.raw for e in _entries(path) if e.principal == two]
    assert kept
    digest = _sha(path)
    predicted = _ok(_run(kdc, {'path': path, 'principals': [one], 'state': 'absent'},
                         password=None, check=True, diff=True))
    assert predicted['changed'] is True and one in predicted['diff']['before']
    assert one not in predicted['diff']['after'] and _sha(path) == digest
    removed = _ok(_run(kdc, {'path': path, 'principals': [one], 'state': 'absent'}, password=None))
    assert removed['changed'] is True and removed['principals'][0]['removed_kvnos'] == [1]
    assert [e.raw for e in _entries(path)] == kept, 'the other principal\'s entries changed'
    again = _ok(_run(kdc, {'path': path, 'principals': [one], 'state': 'absent'}, password=None))
    assert again['changed'] is False


def test_kadmin_failures_are_named(kdc, tmp_path):
    """A wrong admin password, and an admin without the extract privilege: clear failures with
    kadmin's message, no password in the output, no keytab written."""
    principal = _principal(kdc, 'HTTP/fail.hostsec.test')
    path = str(tmp_path / 'fail.keytab')
    wrong = _run(kdc, {'path': path, 'principals': [principal]}, password='not-the-Adm1n-pw')
    assert wrong.rc != 0, wrong.explain()
    error = _result(wrong)['error']
    assert error['class'] == 'KadminAuthError' and error['name'] == 'KADM5_BAD_PASSWORD', error
    assert 'Incorrect password' in _result(wrong)['msg']
    assert 'not-the-Adm1n-pw' not in wrong.output
    noextract = _run(kdc, {'path': path, 'principals': [principal],
                           'kadmin_principal': kdc.kadmin_vars()['krb5_noextract_admin_principal']},
                     password=NOEXTRACT_PASSWORD)
    assert noextract.rc != 0, noextract.explain()
    error = _result(noextract)['error']
    assert error['class'] == 'KadminError' and error['name'] == 'KADM5_AUTH_EXTRACT', error
    assert not os.path.exists(path)
    assert _kdc_kvno(kdc, principal) == 1


@pytest.fixture
def attacker():
    with hostile.attacker_user() as user:
        yield user


def test_planted_link_and_foreign_keytab_are_replaced(kdc, tmp_path, attacker):
    """In a sticky world-writable directory a second uid plants a link to root's keytab and a
    keytab of its own (with a key for a principal of its choice). The module, as root, replaces
    each with a new root-owned 0600 keytab holding only the fetched keys; root's keytab behind
    the link is untouched and the planted entries are not kept."""
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
    for path, why in ((link, 'symlink'), (foreign, 'not_owner')):
        result = _ok(_run(kdc, {'path': path, 'principals': [principal]}))
        assert result['replaced_untrusted'] == why, result
        kind, owner, group, mode, _digest = hostile.facts(path)
        assert (kind, owner, group, mode) == ('file', 0, 0, 0o600), path
        assert set(e.principal for e in _entries(path)) == {principal}, path
        assert hostile.facts(victim) == victim_before
    assert not [p for p in os.listdir(shared) if p.startswith('.')]
    assert subprocess.run(['klist', '-k', victim], capture_output=True, check=False).returncode == 0
