# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential caches: names, reading every ticket of a cache, finding and destroying caches.

Cache names are MIT's ``TYPE:residual``; a name without a type is a file. Supported:

- ``FILE:/path`` -- one cache in one file, written atomically by this collection;
- ``DIR:/dir`` (a collection: the primary cache, or the principal's cache) and
  ``DIR::/dir/tktXXXX`` (one cache of the collection, a file in the same format);
- ``KEYRING:...`` and ``KCM:`` and any other type the library knows: read and written
  through the library (not atomically: the library writes them in place).

Reading a cache never contacts a KDC. Everything here goes through pykrb5 (GSSAPI has no call
to list the tickets of a cache).
"""

import errno
import os
import stat

from ..common.files import FileWriteError, inspect_file
from . import deps
from .errors import CcacheNotFoundError, from_krb5, code_name
from .util import enctype_name, flag_names, iso, now

# Errors that mean "there is no such cache (or nothing in it)".
_ABSENT = ('KRB5_FCC_NOFILE', 'KRB5_CC_NOTFOUND', 'KRB5_CC_END', 'ENOENT')
# Errors that mean "there is something, but it is not a readable cache": it may be replaced.
_INVALID = ('KRB5_CC_FORMAT', 'KRB5_CCACHE_BADVNO', 'KRB5_CC_IO')
# The anchors of KEYRING:ANCHOR:COLLECTION[:CACHE] names.
_KEYRING_ANCHORS = ('persistent', 'session', 'user', 'process', 'thread')


class CcacheName(object):
    """A parsed credential cache name."""

    def __init__(self, name):
        name = name.strip()
        if not name:
            raise CcacheNotFoundError('empty credential cache name', error_name='KRB5_CC_BADNAME')
        if ':' in name and not name.startswith('/'):
            kind, residual = name.split(':', 1)
        else:
            kind, residual = 'FILE', name
        self.type = kind.upper()
        self.residual = residual

    @property
    def name(self):
        return '%s:%s' % (self.type, self.residual)

    @property
    def is_file(self):
        """One cache in one file we may write ourselves (FILE, or one cache of a DIR)."""
        return self.type == 'FILE' or (self.type == 'DIR' and self.residual.startswith(':'))

    @property
    def path(self):
        """The file of a file cache, else ``None``."""
        if self.type == 'FILE':
            return os.path.abspath(self.residual)
        if self.type == 'DIR' and self.residual.startswith(':'):
            return os.path.abspath(self.residual[1:])
        return None

    @property
    def is_collection(self):
        """A name that stands for a collection of caches (DIR:/dir, KEYRING:, KCM:)."""
        if self.type == 'DIR':
            return not self.residual.startswith(':')
        if self.type == 'KEYRING':
            # KEYRING:persistent:UID, KEYRING:session:NAME ... name a collection; a third part
            # (KEYRING:persistent:0:krb_ccache_X) names one cache of it.
            parts = self.residual.split(':')
            return not (parts[0] in _KEYRING_ANCHORS and len(parts) > 2)
        if self.type == 'KCM':
            return self.residual == ''
        return self.type == 'API'

    @property
    def is_member(self):
        """One cache of a collection (``DIR::/dir/tkt``, ``KEYRING:persistent:0:X``, ``KCM:0:X``)."""
        return self.collection is not None and not self.is_collection

    @property
    def collection(self):
        """The name of the collection this cache belongs to (``DIR:/dir`` for ``DIR::/dir/tkt``,
        ``KEYRING:persistent:0`` for ``KEYRING:persistent:0:krb_ccache_X``, ``KCM:`` for every
        KCM cache), ``None`` for a type without collections (``FILE:``)."""
        if self.type == 'DIR':
            return 'DIR:' + self.directory
        if self.type == 'KEYRING':
            parts = self.residual.split(':')
            if parts[0] in _KEYRING_ANCHORS:
                return 'KEYRING:' + ':'.join(parts[:2])
            return 'KEYRING:' + parts[0]
        if self.type == 'KCM':
            return 'KCM:'
        return None

    @property
    def directory(self):
        """The directory of a DIR collection (or of a DIR cache)."""
        if self.type != 'DIR':
            return None
        return os.path.abspath(self.residual.lstrip(':') if self.is_collection
                               else os.path.dirname(self.residual[1:]))

    def __repr__(self):
        return 'CcacheName(%r)' % self.name


def context():
    """A new krb5 context (reads KRB5_CONFIG and KRB5CCNAME now)."""
    deps.PYKRB5.require()
    try:
        return deps.krb5.init_context()
    except deps.krb5.Krb5Error as exc:
        raise from_krb5(exc, 'initialising the Kerberos library')


def default_name(ctx=None):
    """The user's default cache name (KRB5CCNAME, krb5.conf default_ccache_name, built-in)."""
    ctx = ctx or context()
    try:
        return deps.krb5.cc_default_name(ctx).decode('utf-8')
    except deps.krb5.Krb5Error as exc:
        raise from_krb5(exc, 'finding the default credential cache')


def resolve_name(name=None, ctx=None):
    """:class:`CcacheName` of ``name`` or of the default cache."""
    return CcacheName(name or default_name(ctx))


def _text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def _principal_text(principal):
    return _text(principal.name) if principal is not None else None


def parse_principal(ctx, principal):
    try:
        return deps.krb5.parse_name_flags(ctx, principal.encode('utf-8'))
    except deps.krb5.Krb5Error as exc:
        raise from_krb5(exc, 'parsing principal %r' % principal)


def full_name(ctx, cache):
    kind = _text(deps.krb5.cc_get_type(ctx, cache))
    return '%s:%s' % (kind, _text(deps.krb5.cc_get_name(ctx, cache)))


def _collection_caches(ctx, ref):
    """The caches of a DIR collection (each file ``tkt*`` of the directory)."""
    directory = ref.directory
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    caches = []
    for entry in names:
        if entry.startswith('tkt') and (os.path.isfile(os.path.join(directory, entry))
                                        or os.path.islink(os.path.join(directory, entry))):
            caches.append(deps.krb5.cc_resolve(ctx, ('DIR::%s/%s' % (directory, entry)).encode()))
    return caches


def open_cache(ref, principal=None, ctx=None):
    """The cache ``ref`` names, or within a collection the one of ``principal``.

    Returns ``(ctx, cache)``; ``cache`` is ``None`` when a collection has no cache for the
    principal. For a single cache the cache object is returned even if it does not exist yet.
    """
    ctx = ctx or context()
    krb5 = deps.krb5
    try:
        if ref.is_collection and principal:
            krb5.cc_set_default_name(ctx, ref.name.encode('utf-8'))
            try:
                return ctx, krb5.cc_cache_match(ctx, parse_principal(ctx, principal))
            except krb5.Krb5Error as exc:
                if code_name(exc.err_code) in _ABSENT or code_name(exc.err_code) == 'KRB5_CC_NOTFOUND':
                    return ctx, None
                raise
        if ref.type == 'DIR' and ref.is_collection:
            # The primary; resolving DIR:/dir itself would write a "primary" file.
            member = _dir_primary_member(ref.directory)
            if member is None:
                return ctx, None
            return ctx, krb5.cc_resolve(ctx, ('DIR::' + member).encode('utf-8'))
        return ctx, krb5.cc_resolve(ctx, ref.name.encode('utf-8'))
    except krb5.Krb5Error as exc:
        raise from_krb5(exc, 'opening credential cache %s' % ref.name)


def ticket_info(ctx, creds, tgt_name=None):
    """One ticket of a cache as returned to the user."""
    times = creds.times
    flags, letters = flag_names(creds.ticket_flags)
    server = _principal_text(creds.server)
    current = now()
    return {
        'client': _principal_text(creds.client),
        'server': server,
        'auth_time': iso(times.authtime),
        'start': iso(times.starttime or times.authtime),
        'end': iso(times.endtime),
        'renew_till': iso(times.renew_till) if 'renewable' in flags else None,
        'start_epoch': int(times.starttime or times.authtime),
        'end_epoch': int(times.endtime),
        'renew_till_epoch': int(times.renew_till) if 'renewable' in flags else None,
        'expired': int(times.endtime) <= current,
        'flags': flags,
        'flag_letters': letters,
        'enctype': enctype_name(creds.keyblock.enctype),
        'is_tgt': tgt_name is not None and server == tgt_name,
    }


def read_cache(ref, principal=None, ctx=None):
    """Everything about a cache: ``exists``, ``principal``, ``tickets`` and the ``tgt``.

    ``state`` is ``present``, ``absent`` (no such cache, or no cache for ``principal`` in a
    collection) or ``invalid`` (a file that is not a credential cache); ``exists`` is true for
    ``present`` only. Configuration entries
    the library keeps in a cache (``X-CACHECONF:`` principals) are not tickets and are left out.
    """
    ctx, cache = open_cache(ref, principal, ctx)
    result = {'requested': ref.name, 'ccache': ref.name, 'type': ref.type, 'state': 'absent',
              'exists': False, 'principal': None, 'tickets': [], 'tgt': None,
              'tgt_valid': False, 'path': ref.path}
    if cache is None:
        return result
    krb5 = deps.krb5
    try:
        name = full_name(ctx, cache)
        result['ccache'] = name
        result['path'] = CcacheName(name).path
        owner = krb5.cc_get_principal(ctx, cache)
        result['principal'] = _principal_text(owner)
        realm = result['principal'].rsplit('@', 1)[1] if '@' in result['principal'] else ''
        tgt_name = 'krbtgt/%s@%s' % (realm, realm)
        tickets = []
        for creds in cache:
            server = _principal_text(creds.server)
            if server is None or server.endswith('@X-CACHECONF:'):
                continue
            if realm == 'WELLKNOWN:ANONYMOUS' and _is_krbtgt(server):
                # An anonymous client (anonymous PKINIT): its TGT is of the realm it asked.
                tgt_name = server
            tickets.append(ticket_info(ctx, creds, tgt_name))
    except krb5.Krb5Error as exc:
        name = code_name(exc.err_code)
        if name in _ABSENT:
            return result
        if name in _INVALID:
            # Something is there, but it is not a credential cache: ``exists`` stays false.
            result['state'] = 'invalid'
            result['read_error'] = str(from_krb5(exc))
            result['read_error_name'] = name
            return result
        raise from_krb5(exc, 'reading credential cache %s' % ref.name)
    result.update(state='present', exists=True, tickets=tickets)
    tgts = [t for t in tickets if t['is_tgt']]
    if tgts:
        result['tgt'] = max(tgts, key=lambda t: t['end_epoch'])
        result['tgt_valid'] = not result['tgt']['expired'] and 'invalid' not in result['tgt']['flags']
    return result


def _is_krbtgt(server):
    """``krbtgt/R@R``: a TGT of realm R (not a cross-realm one)."""
    name, _sep, realm = server.rpartition('@')
    return name == 'krbtgt/' + realm


def collection_caches(ref, ctx=None):
    """``[(name, principal)]`` of every cache of a DIR collection."""
    ctx = ctx or context()
    out = []
    for cache in _collection_caches(ctx, ref):
        try:
            out.append((full_name(ctx, cache), _principal_text(deps.krb5.cc_get_principal(ctx, cache))))
        except deps.krb5.Krb5Error:
            out.append((full_name(ctx, cache), None))
    return out


def _library_collection(ctx, ref):
    """The caches of the collection ``ref`` belongs to, as the library lists them
    (``klist -l``): the cursor of the collection of the context's default cache name."""
    krb5 = deps.krb5
    try:
        krb5.cc_set_default_name(ctx, ref.name.encode('utf-8'))
        caches = []
        for cache in krb5.cccol_iter(ctx):
            if _text(krb5.cc_get_type(ctx, cache)) == ref.type:
                caches.append(cache)
        return caches
    except krb5.Krb5Error as exc:
        if code_name(exc.err_code) in _ABSENT:
            return []
        raise from_krb5(exc, 'listing the caches of collection %s' % (ref.collection or ref.name))


def member_caches(ref, ctx=None):
    """Every cache of the collection ``ref`` names or belongs to (like ``kdestroy -A`` and
    ``klist -l`` see it): the files ``tkt*`` of a DIR directory (read from the directory, so a
    link there is listed, never followed), the library's list for KEYRING and KCM, and the
    cache itself for a type without collections (when it exists)."""
    ctx = ctx or context()
    if ref.type == 'DIR':
        return ctx, _collection_caches(ctx, CcacheName('DIR:' + ref.directory))
    if ref.collection is None:
        info = read_cache(ref, None, ctx)
        if info['state'] == 'absent':
            return ctx, []
        return ctx, [deps.krb5.cc_resolve(ctx, ref.name.encode('utf-8'))]
    return ctx, _library_collection(ctx, ref)


def primary_name(ref, ctx=None):
    """The full name of the primary cache of the collection of ``ref`` (``None`` for a type
    without collections, or when the collection has no primary that exists)."""
    if ref.collection is None:
        return None
    ctx = ctx or context()
    krb5 = deps.krb5
    try:
        if ref.type == 'DIR':
            # Resolving DIR:/dir makes the library write a "primary" file when there is none:
            # reading must not write, so the file is read here (MIT's default name is "tkt").
            member = _dir_primary_member(ref.directory)
            if member is None:
                return None
            cache = krb5.cc_resolve(ctx, ('DIR::' + member).encode('utf-8'))
        else:
            cache = krb5.cc_resolve(ctx, ref.collection.encode('utf-8'))
        name = full_name(ctx, cache)
        krb5.cc_get_principal(ctx, cache)
    except krb5.Krb5Error:
        return None
    return name


def _dir_primary_member(directory):
    """The path of the primary cache file of a DIR collection as its ``primary`` file names it,
    read without following a link (``None`` when there is no such cache file)."""
    state = inspect_file(os.path.join(directory, 'primary'), mode=0o644, secret=False)
    name = 'tkt'
    if state['kind'] == 'file' and state['content']:
        name = state['content'].decode('utf-8', 'replace').strip()
    if not name.startswith('tkt') or '/' in name:
        return None
    path = os.path.join(directory, name)
    return path if os.path.lexists(path) else None


def switch_primary(ref, ctx=None):
    """Make the cache ``ref`` (a member of a collection) the primary of its collection."""
    ctx = ctx or context()
    krb5 = deps.krb5
    try:
        krb5.cc_switch(ctx, krb5.cc_resolve(ctx, ref.name.encode('utf-8')))
    except krb5.Krb5Error as exc:
        raise from_krb5(exc, 'making %s the primary cache of %s' % (ref.name, ref.collection))


def read_collection(ref, ctx=None):
    """:func:`read_cache` of every cache of the collection of ``ref``, each with ``primary``
    (whether it is the collection's primary cache). A member of a DIR collection that is not
    a regular file (a link, a directory) is not read: ``state=invalid`` and ``unsafe``."""
    ctx, caches = member_caches(ref, ctx)
    primary = primary_name(ref, ctx)
    out = []
    for cache in caches:
        name = full_name(ctx, cache)
        member = CcacheName(name)
        problem = _member_problem(member)
        if problem:
            info = {'requested': name, 'ccache': name, 'type': member.type, 'state': 'invalid',
                    'exists': False, 'principal': None, 'tickets': [], 'tgt': None,
                    'tgt_valid': False, 'path': member.path, 'unsafe': problem,
                    'read_error': 'not a safe credential cache: it is %s' % (
                        'a symbolic link' if problem == 'symlink' else 'not a regular file'),
                    'read_error_name': None}
        else:
            info = read_cache(member, None, ctx)
        info['primary'] = name == primary
        out.append(info)
    return out


def public(info):
    """``info`` of :func:`read_cache` as modules return it (without the internal keys)."""
    return {key: value for key, value in info.items()
            if key not in ('requested', 'read_error_name', 'path', 'unsafe')}


def _member_problem(member):
    if member.path is None:
        return None
    try:
        st = os.lstat(member.path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return 'symlink'
    if not stat.S_ISREG(st.st_mode):
        return 'other'
    return None


def destroy(ref, principal=None, check_mode=False, everything=False):
    """Destroy the cache ``ref`` names (or the principal's cache; a whole DIR collection).

    ``everything``: every cache of the collection ``ref`` names or belongs to (``kdestroy -A``).
    Returns the names of the caches destroyed (or that would be, in check mode).
    """
    ctx = context()
    krb5 = deps.krb5
    if everything:
        ctx, caches = member_caches(ref, ctx)
    elif ref.type == 'DIR' and ref.is_collection and not principal:
        caches = _collection_caches(ctx, ref)
    else:
        info = read_cache(ref, principal, ctx)
        if info['state'] == 'absent':
            return []
        if principal and info['principal'] and not _same_principal(ctx, info['principal'], principal):
            return []
        caches = [krb5.cc_resolve(ctx, info['ccache'].encode('utf-8'))]
    destroyed = []
    for cache in caches:
        name = full_name(ctx, cache)
        destroyed.append(name)
        if check_mode:
            continue
        path = CcacheName(name).path
        if path is not None:
            _remove_file(path)
            continue
        try:
            krb5.cc_destroy(ctx, cache)
        except krb5.Krb5Error as exc:
            if code_name(exc.err_code) not in _ABSENT:
                raise from_krb5(exc, 'destroying credential cache %s' % name)
    return destroyed


def _remove_file(path):
    """Remove the file cache at ``path``: unlink the name, never follow it.

    The library's ``cc_destroy`` of a ``FILE:`` cache overwrites the file with zeros through
    the path first, so a link someone planted at the path would have its target destroyed.
    """
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return
        raise FileWriteError('cannot remove credential cache %s: %s'
                             % (path, exc.strerror or exc),
                             error_name=errno.errorcode.get(exc.errno))


def _same_principal(ctx, a, b):
    krb5 = deps.krb5
    return (krb5.unparse_name_flags(ctx, parse_principal(ctx, a))
            == krb5.unparse_name_flags(ctx, parse_principal(ctx, b)))


def canonical_principal(principal, ctx=None):
    """``user@DEFAULT.REALM`` for ``user`` (the library adds the default realm)."""
    ctx = ctx or context()
    return _text(deps.krb5.unparse_name_flags(ctx, parse_principal(ctx, principal)))
