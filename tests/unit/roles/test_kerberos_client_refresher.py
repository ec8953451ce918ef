# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kerberos_client refresher script (roles/kerberos_client/templates/krb5-refresh.py.j2).

The template is rendered with a configuration for the throwaway realm and imported. Its own
reader of the MIT file cache format is cross-checked against libkrb5 (the collection's
``read_cache``) on caches that kinit and the KDC wrote; hostile bytes only ever make a cache
"unusable" (then replaced), never crash the script. DIR collections and a KDC that is down are
run against the real KDC. The molecule scenario of the role covers the rest (FILE caches run
as a service user, renewal, a planted symbolic link).
"""

import importlib.util
import json
import os
import random
import struct
import subprocess
import sys

import jinja2
import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.ccache import CcacheName, read_cache
from harness import paths
from harness.services.krb5 import Krb5Service

# The realm needs k5test (tests/requirements.txt), which ansible-test's units venv lacks.
pytest.importorskip('k5test')

pytestmark = pytest.mark.slow

TEMPLATE = os.path.join(paths.ROOT, 'roles', 'kerberos_client', 'templates', 'krb5-refresh.py.j2')


def load_script(tmp_path, **config):
    # Ansible's template defaults: trim_blocks makes the shebang the first line.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True)
    env.filters['to_json'] = json.dumps
    with open(TEMPLATE) as handle:
        text = env.from_string(handle.read()).render(_kerberos_client_refresher_config=config)
    path = tmp_path / ('refresh-%s.py' % config['name'])
    assert text.startswith('#!/usr/bin/python3\n')
    path.write_text(text)
    spec = importlib.util.spec_from_file_location('refresh_%s' % config['name'], str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5refresh'))) as service:
        yield service


def config_for(kdc, ccache, name='test', **extra):
    config = {'name': name, 'principal': kdc.principal('robot'), 'keytab': kdc.keytabs['robot'],
              'ccache': ccache, 'user': 'root', 'group': '', 'mode': '0600',
              'min_lifetime': '2h', 'lifetime': '4h', 'krb5_config': kdc.krb5_conf}
    config.update(extra)
    return config


def test_parse_duration(tmp_path, kdc):
    script, dummy = load_script(tmp_path, **config_for(kdc, 'FILE:/nonexistent'))
    assert script.parse_duration('2h') == 7200
    assert script.parse_duration('1h30m') == 5400
    assert script.parse_duration(' 90min ') == 5400
    assert script.parse_duration('1d 2h 3m 4s') == 93784
    assert script.parse_duration('45sec') == 45
    assert script.parse_duration('600') == 600
    for bad in ('', 'h', '2x', '2h garbage', 'garbage 2h', '-1h', '1.5h'):
        with pytest.raises(script.RefreshError):
            script.parse_duration(bad)


def test_cache_reader_agrees_with_libkrb5(tmp_path, kdc):
    """Times, flags and principals of a renewable TGT plus a service ticket."""
    cache = 'FILE:%s/alice' % tmp_path
    assert kdc.kinit('alice', cache, lifetime='3h', renewable='2d').returncode == 0
    subprocess.run(['kvno', kdc.principal('HTTP/www.hostsec.test')], check=True, capture_output=True,
                   env=kdc.client_env(KRB5CCNAME=cache))
    script, dummy = load_script(tmp_path, **config_for(kdc, cache))
    with open(cache[5:], 'rb') as handle:
        default, creds = script.parse_ccache(handle.read())
    library = read_cache(CcacheName(cache))
    assert default == library['principal'] == kdc.principal('alice')
    tickets = [c for c in creds if not c['server'].endswith('@X-CACHECONF:')]
    assert [(c['client'], c['server']) for c in tickets] == \
        [(t['client'], t['server']) for t in library['tickets']]
    for mine, theirs in zip(tickets, library['tickets']):
        assert mine['starttime'] == theirs['start_epoch']
        assert mine['endtime'] == theirs['end_epoch']
        assert bool(mine['flags'] & script.TKT_FLG_RENEWABLE) == ('renewable' in theirs['flags'])
    assert tickets[0]['renew_till'] == library['tgt']['renew_till_epoch']
    # kinit computes the end from its clock, the KDC the start from its own: a second or two off.
    assert 3 * 3600 - 60 <= tickets[0]['endtime'] - tickets[0]['starttime'] <= 3 * 3600


def test_hostile_cache_bytes_are_unusable_never_a_crash(tmp_path, kdc):
    cache = 'FILE:%s/bob' % tmp_path
    assert kdc.kinit('bob', cache).returncode == 0
    script, dummy = load_script(tmp_path, **config_for(kdc, cache))
    with open(cache[5:], 'rb') as handle:
        good = handle.read()
    realm_length = 4 + struct.unpack('>H', good[2:4])[0] + 8  # version, header, name type, count
    noise = random.Random(1)
    hostile = [b'', b'\x05', b'\x05\x04', b'\x05\x02' + good[2:], good[:len(good) // 2], good[:-1],
               good[:realm_length] + b'\xff\xff\xff\xff' + good[realm_length + 4:],
               good[:realm_length - 4] + b'\x7f\xff\xff\xff' + good[realm_length:],
               b'\x05\x04' + bytes(noise.getrandbits(8) for dummy in range(4096)),
               good + b'\x00\x00\x00\x01\x00\x00\xff\xff']
    for data in hostile:
        with pytest.raises(script.Unusable):
            script.parse_ccache(data)


def run(path, *args):
    """Run the script with the system python3 it is installed for (its shebang)."""
    python = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
    return subprocess.run([python, str(path)] + list(args), capture_output=True, text=True,
                          timeout=120, check=False)


def test_dir_collection(tmp_path, kdc):
    """A new cache in a DIR collection becomes its primary; the next run changes nothing."""
    collection = tmp_path / 'collection'
    dummy, path = load_script(tmp_path, **config_for(kdc, 'DIR:%s' % collection, name='dir'))
    first = run(path, '-v')
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith('acquired: %s in FILE:%s/tkt' % (kdc.principal('robot'), collection))
    assert oct(collection.stat().st_mode & 0o777) == '0o700'
    members = sorted(p.name for p in collection.iterdir())
    assert len(members) == 2 and members[0] == 'primary', members
    assert (collection / 'primary').read_text() == members[1] + '\n'
    info = read_cache(CcacheName('DIR:%s' % collection), principal=kdc.principal('robot'))
    assert info['tgt_valid']
    assert 4 * 3600 - 60 <= info['tgt']['end_epoch'] - info['tgt']['start_epoch'] <= 4 * 3600
    before = (collection / members[1]).stat()
    second = run(path, '-v')
    assert second.returncode == 0 and second.stdout.startswith('fresh: ')
    after = (collection / members[1]).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in collection.iterdir()) == members


def test_kdc_down_leaves_the_cache_and_fails_with_one_line(tmp_path, kdc):
    cache = tmp_path / 'short'
    dummy, path = load_script(tmp_path, **config_for(kdc, 'FILE:%s' % cache, name='down'))
    kinit = subprocess.run(['kinit', '-k', '-t', kdc.keytabs['robot'], '-l', '1h', '-c', 'FILE:%s' % cache,
                            kdc.principal('robot')], env=kdc.client_env(), capture_output=True, check=False)
    assert kinit.returncode == 0, kinit.stderr
    before = cache.read_bytes()
    kdc.stop_kdc()
    try:
        result = run(path)
    finally:
        kdc.start_kdc()
    assert result.returncode == 1
    assert result.stdout == ''
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('down: failed: ') and 'kinit -k: ' in lines[0], lines
    assert 'Traceback' not in result.stderr
    assert cache.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.hostsec-krb5-refresh-')]
