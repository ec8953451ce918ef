# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our ctypes binding of libkrb5 against pykrb5, on caches and keytabs a real KDC made.

The realm is the one of tests/harness/services/krb5.py (k5test database, krb5kdc on
127.0.0.1, a free port); caches are made with ``kinit`` and keytabs with ``kadmin.local
ktadd``. Every value our modules read (principals, times, flags, enctypes, kvnos, timestamps)
and every error code must be the same through both.
"""

import functools
import gc
import os
import resource
import subprocess

import pytest

from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5 import libkrb5

pykrb5 = pytest.importorskip('krb5')

from harness.services.krb5 import USERS, Krb5Service  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def kdc(tmp_path_factory):
    with Krb5Service(str(tmp_path_factory.mktemp('krb5lib'))) as service:
        old = {key: os.environ.get(key) for key in service.env}
        os.environ.update(service.env)
        try:
            yield service
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope='module')
def caches(kdc, tmp_path_factory):
    """A renewable TGT plus a service ticket, a plain TGT, and a DIR collection of two."""
    base = tmp_path_factory.mktemp('caches')
    renewable = 'FILE:%s/renewable' % base
    assert kdc.kinit('alice', renewable, lifetime='2h', renewable='3d').returncode == 0
    env = kdc.client_env(KRB5CCNAME=renewable)
    subprocess.run(['kvno', kdc.principal('HTTP/www.hostsec.test')], env=env, check=True,
                   capture_output=True)
    plain = 'FILE:%s/plain' % base
    assert kdc.kinit('bob', plain).returncode == 0
    collection = 'DIR:%s/dir' % base
    os.makedirs('%s/dir' % base)
    assert kdc.kinit('alice', collection).returncode == 0
    assert kdc.kinit('bob', collection).returncode == 0
    return {'renewable': renewable, 'plain': plain, 'collection': collection}


def _creds(mod, name):
    ctx = mod.init_context()
    cache = mod.cc_resolve(ctx, name.encode())
    out = []
    for creds in cache:
        times = creds.times
        out.append({
            'client': creds.client.name, 'server': creds.server.name,
            'times': (times.authtime, times.starttime, times.endtime, times.renew_till),
            'flags': int(creds.ticket_flags),
            'flag_names': sorted(flag.name for flag in type(creds.ticket_flags)
                                 if flag in creds.ticket_flags),
            'enctype': creds.keyblock.enctype})
    return {'type': mod.cc_get_type(ctx, cache), 'name': mod.cc_get_name(ctx, cache),
            'principal': mod.cc_get_principal(ctx, cache).name, 'creds': out}


def _keytab(mod, name):
    ctx = mod.init_context()
    return [(e.principal.name, e.kvno, e.key.enctype, e.timestamp)
            for e in mod.kt_resolve(ctx, name.encode())]


def _error(func):
    with pytest.raises(Exception) as info:
        func()
    return info.value


@pytest.mark.parametrize('which', ['renewable', 'plain'])
def test_cache_contents_are_the_same(caches, which):
    ours, theirs = _creds(libkrb5, caches[which]), _creds(pykrb5, caches[which])
    assert ours == theirs
    assert ours['creds'], 'no tickets read'
    if which == 'renewable':
        flags = {name for c in ours['creds'] for name in c['flag_names']}
        assert {'renewable', 'initial', 'pre_authent'} <= flags
        assert any(c['server'].startswith(b'HTTP/') for c in ours['creds'])
        assert all(c['times'][3] > c['times'][2] for c in ours['creds'] if c['flags'] & 0x100)


@pytest.mark.parametrize('keytab', ['service', 'stale', 'robot'])
def test_keytab_entries_are_the_same(kdc, keytab):
    name = 'FILE:' + kdc.keytabs[keytab]
    ours = _keytab(libkrb5, name)
    assert ours == _keytab(pykrb5, name)
    assert ours and all(kvno >= 1 and enctype > 0 and stamp > 0 for _p, kvno, enctype, stamp in ours)


def test_names_and_defaults_are_the_same(kdc):
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        principal = mod.parse_name_flags(ctx, b'alice')
        assert principal.name == b'alice@HOSTSEC.TEST'
        assert mod.unparse_name_flags(ctx, principal) == b'alice@HOSTSEC.TEST'
    ours, theirs = libkrb5.init_context(), pykrb5.init_context()
    assert libkrb5.cc_default_name(ours) == pykrb5.cc_default_name(theirs)
    assert libkrb5.kt_default_name(ours) == pykrb5.kt_default_name(theirs)
    assert libkrb5.kt_default_name(ours) == kdc.keytabs['service'].encode() or \
        libkrb5.kt_default_name(ours).endswith(kdc.keytabs['service'].encode())


def test_kt_get_entry_is_the_same(kdc):
    results = []
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        keytab = mod.kt_resolve(ctx, kdc.keytabs['stale'].encode())
        entry = mod.kt_get_entry(ctx, keytab, mod.parse_name_flags(ctx, b'HTTP/stale.hostsec.test'))
        missing = _error(lambda: mod.kt_get_entry(ctx, keytab, mod.parse_name_flags(ctx, b'nobody')))
        results.append((entry.principal.name, entry.kvno, entry.key.enctype,
                        missing.err_code, str(missing)))
    assert results[0] == results[1]
    assert results[0][3] == -1765328203  # KRB5_KT_NOTFOUND


def test_cache_match_in_a_collection_is_the_same(caches):
    found = []
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        mod.cc_set_default_name(ctx, caches['collection'].encode())
        cache = mod.cc_cache_match(ctx, mod.parse_name_flags(ctx, b'bob'))
        missing = _error(lambda: mod.cc_cache_match(ctx, mod.parse_name_flags(ctx, b'carol')))
        found.append((mod.cc_get_type(ctx, cache), mod.cc_get_name(ctx, cache),
                      mod.cc_get_principal(ctx, cache).name, missing.err_code))
    assert found[0] == found[1]
    assert found[0][2] == b'bob@HOSTSEC.TEST'


def test_collection_listing_switch_and_new_unique_are_the_same(kdc, tmp_path):
    """cccol_iter lists the collection as pykrb5 (and klist -l) do; cc_switch moves the
    primary; cc_new_unique adds a cache to the collection of the default name."""
    directory = tmp_path / 'col'
    directory.mkdir(mode=0o700)
    collection = 'DIR:%s' % directory
    for user in ('alice', 'bob'):  # kinit -c DIR:dir would overwrite the primary
        subprocess.run(['kinit', kdc.principal(user)], input=USERS[user] + '\n', text=True,
                       env=kdc.client_env(KRB5CCNAME=collection), check=True,
                       capture_output=True)
    listed, primaries = [], []
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        mod.cc_set_default_name(ctx, collection.encode())
        listed.append(sorted((mod.cc_get_name(ctx, c), mod.cc_get_principal(ctx, c).name)
                             for c in mod.cccol_iter(ctx)))
        assert mod.cc_support_switch(ctx, b'DIR') is True
        assert mod.cc_support_switch(ctx, b'FILE') is False
        for user in (b'alice', b'bob'):
            mod.cc_switch(ctx, mod.cc_cache_match(ctx, mod.parse_name_flags(ctx, user)))
            primary = mod.cc_resolve(ctx, collection.encode())
            primaries.append(mod.cc_get_principal(ctx, primary).name)
        new = mod.cc_new_unique(ctx, b'DIR')
        assert mod.cc_get_name(ctx, new).startswith(b':%s/tkt' % str(directory).encode())
        mod.cc_destroy(ctx, new)
    assert listed[0] == listed[1] and len(listed[0]) == 2
    assert {p for _n, p in listed[0]} == {b'alice@HOSTSEC.TEST', b'bob@HOSTSEC.TEST'}
    assert primaries == [b'alice@HOSTSEC.TEST', b'bob@HOSTSEC.TEST'] * 2
    klist = subprocess.run(['klist', '-l'], env=kdc.client_env(KRB5CCNAME=collection),
                           capture_output=True, text=True, check=True).stdout
    for name, principal in listed[0]:
        assert 'DIR:%s' % name.decode() in klist and principal.decode() in klist


def _bad_call(mod, ctx, case, tmp_path, garbage):
    """The call of ``case`` that must fail."""
    directory = str(tmp_path).encode()
    if case == 'no_file':
        return mod.cc_get_principal(ctx, mod.cc_resolve(ctx, b'FILE:%s/none' % directory))
    if case == 'not_a_cache':
        return list(mod.cc_resolve(ctx, b'FILE:' + str(garbage).encode()))
    if case == 'no_keytab':
        return list(mod.kt_resolve(ctx, b'FILE:%s/none.keytab' % directory))
    if case == 'bad_name':
        return mod.parse_name_flags(ctx, b'a@B@C')
    return mod.cc_resolve(ctx, b'NOSUCHTYPE:x')


@pytest.mark.parametrize('case', ['no_file', 'not_a_cache', 'no_keytab', 'bad_name', 'bad_type'])
def test_errors_have_the_same_codes(tmp_path, kdc, case):
    garbage = tmp_path / 'garbage'
    garbage.write_bytes(b'\x00\x01 this is not a credential cache at all' * 4)
    codes = []
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        error = _error(functools.partial(_bad_call, mod, ctx, case, tmp_path, garbage))
        assert isinstance(error, mod.Krb5Error), repr(error)
        codes.append((error.err_code, str(error)))
    assert codes[0][0] == codes[1][0]
    # The same message text (pykrb5 ends it with the code, so does the binding).
    assert codes[0][1] == codes[1][1]


def test_renew_and_store_then_destroy(kdc, tmp_path):
    """get_renewed_creds + cc_initialize + cc_store_cred (what acquire.renew does), through the
    binding; pykrb5 reads the result the same; cc_destroy removes the cache."""
    source = 'FILE:%s/src' % tmp_path
    assert kdc.kinit('alice', source, lifetime='1h', renewable='2d').returncode == 0
    ctx = libkrb5.init_context()
    client = libkrb5.parse_name_flags(ctx, b'alice')
    creds = libkrb5.get_renewed_creds(ctx, client, libkrb5.cc_resolve(ctx, source.encode()))
    assert creds.server.name == b'krbtgt/HOSTSEC.TEST@HOSTSEC.TEST'
    assert libkrb5.TicketFlags.renewable in creds.ticket_flags
    target = 'FILE:%s/renewed' % tmp_path
    cache = libkrb5.cc_resolve(ctx, target.encode())
    libkrb5.cc_initialize(ctx, cache, client)
    libkrb5.cc_store_cred(ctx, cache, creds)
    ours, theirs = _creds(libkrb5, target), _creds(pykrb5, target)
    assert ours == theirs
    assert [c['times'] for c in ours['creds'] if c['server'].startswith(b'krbtgt/')] == \
        [tuple(creds.times)]
    assert kdc.klist('-s', '-c', target).returncode == 0
    libkrb5.cc_destroy(ctx, cache)
    assert not os.path.exists(target[len('FILE:'):])
    expired = _error(lambda: libkrb5.get_renewed_creds(ctx, client, libkrb5.cc_resolve(ctx, target.encode())))
    assert expired.err_code == -1765328189  # KRB5_FCC_NOFILE


def test_flag_names_of_util_work_with_the_binding(caches):
    from ansible_collections.hostsec.mgmt.plugins.module_utils.krb5.util import flag_names
    ctx = libkrb5.init_context()
    for creds in libkrb5.cc_resolve(ctx, caches['renewable'].encode()):
        if creds.server.name.startswith(b'krbtgt/'):
            names, letters = flag_names(creds.ticket_flags)
            assert 'renewable' in names and 'R' in letters
            return
    pytest.fail('no TGT in the cache')


def test_no_leak_over_many_reads(caches, kdc):
    """Bounded: 3000 rounds of context + cache + keytab iteration; the peak RSS grows by less
    than 8 MiB after a warm-up (a leak of one krb5_creds or context per round would exceed it)."""
    def round_trip():
        _creds(libkrb5, caches['renewable'])
        _keytab(libkrb5, 'FILE:' + kdc.keytabs['service'])
    for _round in range(300):
        round_trip()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _round in range(3000):
        round_trip()
    gc.collect()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print('peak RSS growth over 3000 rounds: %d KiB' % grown)
    assert grown < 8 * 1024, 'peak RSS grew by %d KiB' % grown


@pytest.mark.parametrize('call,code', [
    (lambda ctx: libkrb5.cc_resolve(ctx, b'FILE:/tmp/a\0b'), -1765328245),
    (lambda ctx: libkrb5.cc_set_default_name(ctx, b'DIR:/tmp\0x'), -1765328245),
    (lambda ctx: libkrb5.kt_resolve(ctx, b'FILE:/etc/krb5.keytab\0x'), -1765328205),
    (lambda ctx: libkrb5.parse_name_flags(ctx, b'alice\0@EVIL'), -1765328250),
])
def test_a_nul_in_a_name_is_refused(call, code):
    """C would cut the name at the NUL and use another cache, keytab or principal."""
    error = _error(lambda: call(libkrb5.init_context()))
    assert isinstance(error, libkrb5.Krb5Error) and error.err_code == code


def _init_creds(mod, kdc, target, **options):
    """krb5_get_init_creds_password with options (what acquire._acquire_library does), stored
    into ``target`` with a cache configuration entry."""
    ctx = mod.init_context()
    client = mod.parse_name_flags(ctx, options.pop('name', b'alice'), options.pop('flags', 0))
    opt = mod.get_init_creds_opt_alloc(ctx)
    for name in ('forwardable', 'proxiable', 'canonicalize', 'anonymous'):
        if name in options:
            getattr(mod, 'get_init_creds_opt_set_' + name)(opt, options[name])
    for attr, value in options.get('pa', []):
        mod.get_init_creds_opt_set_pa(ctx, opt, attr, value)
    creds = mod.get_init_creds_password(ctx, client, opt, options.get('password'),
                                        start_time=options.get('start_time', 0))
    cache = mod.cc_resolve(ctx, target.encode())
    mod.cc_initialize(ctx, cache, creds.client)
    mod.cc_store_cred(ctx, cache, creds)
    mod.cc_set_config(ctx, cache, None, b'hostsec_mgmt_request', b'{"name": "x"}')
    return ctx, cache, creds


@pytest.mark.parametrize('options', [
    {'forwardable': True, 'proxiable': True},
    {'forwardable': False, 'proxiable': False, 'canonicalize': True},
    {'start_time': 3600},
])
def test_init_creds_with_options_are_the_same(kdc, tmp_path, options):
    """The same request through the binding and pykrb5 gives the same client, server and flags
    (F, P, and d/i for a postdated ticket); the configuration entry reads back the same and
    klist sees the flags."""
    results = {}
    for mod in (libkrb5, pykrb5):
        target = 'FILE:%s/%s' % (tmp_path, mod.__name__.rsplit('.', 1)[-1])
        ctx, cache, creds = _init_creds(mod, kdc, target, password=b'alice-Kerb3ros-pw',
                                        **dict(options))
        flags = sorted(f.name for f in type(creds.ticket_flags) if f in creds.ticket_flags)
        results[mod] = (creds.client.name, creds.server.name, flags,
                        mod.cc_get_config(ctx, cache, None, b'hostsec_mgmt_request'))
        ours = _creds(libkrb5, target)
        assert ours == _creds(pykrb5, target)
        servers = [c['server'] for c in ours['creds']]
        assert servers == [b'krbtgt/HOSTSEC.TEST@HOSTSEC.TEST',
                           b'krb5_ccache_conf_data/hostsec_mgmt_request@X-CACHECONF:'], servers
    assert results[libkrb5] == results[pykrb5]
    flags = results[libkrb5][2]
    assert ('forwardable' in flags) == bool(options.get('forwardable'))
    assert ('proxiable' in flags) == bool(options.get('proxiable'))
    assert ('postdated' in flags and 'invalid' in flags) == bool(options.get('start_time'))
    assert results[libkrb5][3] == b'{"name": "x"}'
    missing = _error(lambda: libkrb5.cc_get_config(libkrb5.init_context(),
                                                   libkrb5.cc_resolve(libkrb5.init_context(), b'FILE:/nonexistent/x'),
                                                   None, b'k'))
    assert isinstance(missing, libkrb5.Krb5Error)


def test_enterprise_name_and_validation_are_the_same(kdc, tmp_path):
    """KRB5_PRINCIPAL_PARSE_ENTERPRISE names the enterprise principal carol@hostsec.test; a
    postdated ticket cannot be validated before its start (the same error code both ways)."""
    from harness.services.krb5 import ENTERPRISE
    for mod in (libkrb5, pykrb5):
        ctx = mod.init_context()
        name = mod.parse_name_flags(ctx, ENTERPRISE['name'].encode(), 4)
        assert mod.unparse_name_flags(ctx, name) == ENTERPRISE['principal'].encode()
        target = 'FILE:%s/ent-%s' % (tmp_path, mod.__name__.rsplit('.', 1)[-1])
        ctx, cache, creds = _init_creds(mod, kdc, target, name=ENTERPRISE['name'].encode(),
                                        flags=4, password=ENTERPRISE['password'].encode())
        assert creds.client.name == ENTERPRISE['principal'].encode()
    codes = []
    for mod in (libkrb5, pykrb5):
        target = 'FILE:%s/post-%s' % (tmp_path, mod.__name__.rsplit('.', 1)[-1])
        ctx, cache, creds = _init_creds(mod, kdc, target, password=b'alice-Kerb3ros-pw',
                                        start_time=3600)
        client = mod.parse_name_flags(ctx, b'alice')
        codes.append(_error(lambda: mod.get_validated_creds(ctx, client, cache)).err_code)
    assert codes[0] == codes[1] == -1765328351  # KRB5KRB_AP_ERR_TKT_NYV


def test_pkinit_through_the_binding(kdc, tmp_path):
    """X509_user_identity/X509_anchors through krb5_get_init_creds_opt_set_pa (no password),
    anonymous PKINIT too; the same client and flags as through pykrb5."""
    if not kdc.pkinit:
        pytest.skip('the krb5-pkinit plugin is not installed')
    pa = [(b'X509_user_identity', kdc.pkinit['alice']['identity'].encode()),
          (b'X509_anchors', ('FILE:' + kdc.pkinit['ca']).encode())]
    seen = []
    for mod in (libkrb5, pykrb5):
        target = 'FILE:%s/pk-%s' % (tmp_path, mod.__name__.rsplit('.', 1)[-1])
        creds = _init_creds(mod, kdc, target, pa=pa, forwardable=True)[2]
        anon = _init_creds(mod, kdc, target + '-anon', name=b'WELLKNOWN/ANONYMOUS',
                           anonymous=True, pa=pa[1:])[2]
        seen.append((creds.client.name, int(creds.ticket_flags), anon.client.name,
                     int(anon.ticket_flags)))
    assert seen[0] == seen[1]
    assert seen[0][0] == b'alice@HOSTSEC.TEST' and seen[0][2] == b'WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS'
    assert seen[0][3] & int(libkrb5.TicketFlags.anonymous)


def test_no_leak_over_many_init_creds_options(caches):
    """Bounded, no KDC contact: 1000 rounds of krb5_get_init_creds_opt_alloc + setters + free
    and cc_get_config of an entry that is not there; the peak RSS grows by less than 8 MiB."""
    def round_trip():
        ctx = libkrb5.init_context()
        opt = libkrb5.get_init_creds_opt_alloc(ctx)
        libkrb5.get_init_creds_opt_set_forwardable(opt, True)
        libkrb5.get_init_creds_opt_set_proxiable(opt, False)
        libkrb5.get_init_creds_opt_set_canonicalize(opt, True)
        libkrb5.get_init_creds_opt_set_pa(ctx, opt, b'X509_anchors', b'FILE:/nonexistent.pem')
        cache = libkrb5.cc_resolve(ctx, caches['plain'].encode())
        with pytest.raises(libkrb5.Krb5Error):
            libkrb5.cc_get_config(ctx, cache, None, b'hostsec_mgmt_request')
    for _round in range(100):
        round_trip()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _round in range(1000):
        round_trip()
    gc.collect()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print('peak RSS growth over 1000 init-creds-option rounds: %d KiB' % grown)
    assert grown < 8 * 1024, 'peak RSS grew by %d KiB' % grown
