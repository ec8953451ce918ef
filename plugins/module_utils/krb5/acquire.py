# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Getting a TGT into a credential cache without ever damaging the cache that is there.

Acquisition uses python-gssapi's credential store extensions:

- with a password: ``acquire_cred_with_password`` (the library keeps the ticket in a private
  memory cache), then ``store_cred_into`` a new file cache;
- with a client keytab: ``acquire_cred_from({'client_keytab': ..., 'ccache': <new file>})``,
  which makes the library get the ticket straight into that new file cache.

The new cache is a file in a private temporary directory (mode 0700) created next to the target,
so a failed acquisition leaves the existing cache as it was. The finished cache is then installed
with :func:`..common.files.write_atomic` (mode, owner and group set before it is renamed over the
target). Caches that are not files (KEYRING, KCM) are filled through the library with
``store_cred_into``; the library writes those in place.

The requested ticket and renew lifetimes reach the library through a krb5.conf overlay
(:func:`.util.libdefaults_overlay`): GSSAPI has no parameter for them.

Renewal (which GSSAPI cannot do) uses pykrb5's ``get_renewed_creds``; like ``kinit -R`` the
renewed cache holds only the renewed TGT. Validation of a postdated TGT (``kinit -v``) uses
``get_validated_creds`` the same way.

Ticket options GSSAPI has no parameter for (:class:`TicketOptions`: forwardable, proxiable,
anonymous, canonicalize, enterprise names, PKINIT, postdating) go through libkrb5's
``krb5_get_init_creds_password``/``_keytab`` with a ``krb5_get_init_creds_opt`` (pykrb5, or
the collection's binding :mod:`.libkrb5`); the new TGT is stored into the same private new
cache and installed the same way. Whether the ticket carries client addresses is the
``noaddresses`` relation of the krb5.conf overlay (addressless unless ``address_restricted``).
That cache also gets a configuration entry (``krb5_cc_set_config``, key :data:`REQUEST_KEY`,
invisible to klist) recording the requested name and the options a ticket does not show
(addresses, canonicalize): :mod:`.ticket` compares them on the next run.
"""

import errno
import json
import os
import shutil
import stat
import tempfile
import uuid

from ..common.files import FileWriteError, inspect_file, intended_ids, read_file, write_atomic
from . import deps
from .ccache import (CcacheName, context, full_name, open_cache, parse_principal, primary_name,
                     read_cache, switch_primary)
from .errors import Krb5Error, from_gss, from_krb5
from .util import libdefaults_overlay, realm_of

# The cache configuration entry that records what was requested (see TicketOptions.record).
REQUEST_KEY = b'hostsec_mgmt_request'
ANONYMOUS = 'WELLKNOWN/ANONYMOUS'
ANONYMOUS_REALM = 'WELLKNOWN:ANONYMOUS'


class TicketOptions(object):
    """The ticket options of ``krb5_ticket`` beyond the lifetimes.

    ``None`` for ``forwardable``, ``proxiable`` and ``canonicalize`` leaves them to krb5.conf;
    ``start_time`` is seconds from now (postdated ticket); ``pkinit_identity`` and
    ``pkinit_anchors`` are libkrb5 PKINIT identity strings (``FILE:cert,key``, ``PKCS12:...``).
    """

    # The module options passed as they are (start_time is converted first).
    NAMES = ('forwardable', 'proxiable', 'address_restricted', 'anonymous', 'canonicalize',
             'enterprise', 'pkinit_identity', 'pkinit_anchors')

    def __init__(self, forwardable=None, proxiable=None, address_restricted=False,
                 anonymous=False, canonicalize=None, enterprise=False, start_time=None,
                 pkinit_identity=None, pkinit_anchors=None):
        self.forwardable = forwardable
        self.proxiable = proxiable
        self.address_restricted = bool(address_restricted)
        self.anonymous = bool(anonymous)
        self.canonicalize = canonicalize
        self.enterprise = bool(enterprise)
        self.start_time = start_time
        self.pkinit_identity = pkinit_identity
        self.pkinit_anchors = pkinit_anchors

    @property
    def needs_library(self):
        """Whether GSSAPI cannot get this ticket (libkrb5's init_creds with options can)."""
        return (self.forwardable is not None or self.proxiable is not None or self.anonymous
                or self.canonicalize is not None or self.enterprise or bool(self.start_time)
                or bool(self.pkinit_identity) or bool(self.pkinit_anchors))

    @property
    def settings(self):
        """``[libdefaults]`` relations of the krb5.conf overlay."""
        return {'noaddresses': 'false' if self.address_restricted else 'true'}

    def record(self, requested):
        """The configuration entry stored in a new cache (no secret: names and booleans)."""
        return json.dumps({'name': requested, 'addresses': self.address_restricted,
                           'canonicalize': bool(self.canonicalize),
                           'enterprise': self.enterprise}, sort_keys=True).encode('utf-8')


def parse_flags(options):
    """``krb5_parse_name_flags`` flags for the client name of ``options``."""
    return 4 if options is not None and options.enterprise else 0  # KRB5_PRINCIPAL_PARSE_ENTERPRISE


def read_record(ctx, cache):
    """The request entry of ``cache`` (a dict), or ``None`` (a cache from kinit or GSSAPI)."""
    krb5 = deps.krb5
    try:
        data = krb5.cc_get_config(ctx, cache, None, REQUEST_KEY)
    except krb5.Krb5Error:
        return None
    try:
        record = json.loads(data.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


class _Workdir(object):
    """A private directory for the new cache, next to the target when the target is a file."""

    def __init__(self, target):
        parent = None
        if target.path:
            parent = os.path.dirname(target.path)
            if not os.path.isdir(parent):
                raise Krb5Error('cannot write credential cache %s: directory %s does not exist'
                                % (target.name, parent), error_name='ENOENT')
        try:
            self.path = tempfile.mkdtemp(prefix='.hostsec-krb5-', dir=parent)
        except OSError as exc:
            raise Krb5Error('cannot create a temporary credential cache next to %s: %s'
                            % (target.name, exc.strerror or exc), error_name='EACCES')
        self.ccache = 'FILE:' + os.path.join(self.path, 'ccache')

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


def _gss_name(principal):
    gssapi = deps.gssapi
    try:
        return gssapi.Name(principal, gssapi.NameType.kerberos_principal)
    except gssapi.exceptions.GSSError as exc:
        raise from_gss(exc, 'parsing principal %r' % principal)


def _acquire_into(ccache, principal, password=None, keytab=None):
    """Get a TGT for ``principal`` into the (new) cache ``ccache``."""
    gssapi = deps.gssapi
    raw = gssapi.raw
    name = _gss_name(principal)
    action = 'acquiring a ticket for %s' % principal
    try:
        if password is not None:
            creds = raw.acquire_cred_with_password(name, password.encode('utf-8'),
                                                   usage='initiate').creds
            raw.store_cred_into({'ccache': ccache}, creds, usage='initiate',
                                mech=gssapi.MechType.kerberos, overwrite=True)
        else:
            raw.acquire_cred_from({'ccache': ccache, 'client_keytab': keytab}, name,
                                  usage='initiate')
    except gssapi.exceptions.GSSError as exc:
        raise from_gss(exc, action + (' with a password' if password is not None
                                      else ' with keytab %s' % keytab))


def _acquire_library(ccache, principal, options, password=None, keytab=None):
    """Get a TGT with ``options`` (:class:`TicketOptions`) into the (new) cache ``ccache``
    through libkrb5's init_creds calls; returns the client principal of the new cache."""
    krb5 = deps.krb5
    ctx = context()
    action = 'acquiring a ticket for %s' % principal
    if options.pkinit_identity:
        action += ' with PKINIT'
    elif options.anonymous:
        action += ' anonymously'
    elif password is not None:
        action += ' with a password'
    elif keytab is not None:
        action += ' with keytab %s' % keytab
    try:
        client = krb5.parse_name_flags(ctx, principal.encode('utf-8'), parse_flags(options))
        opt = krb5.get_init_creds_opt_alloc(ctx)
        if options.forwardable is not None:
            krb5.get_init_creds_opt_set_forwardable(opt, options.forwardable)
        if options.proxiable is not None:
            krb5.get_init_creds_opt_set_proxiable(opt, options.proxiable)
        if options.canonicalize is not None:
            krb5.get_init_creds_opt_set_canonicalize(opt, options.canonicalize)
        if options.anonymous:
            krb5.get_init_creds_opt_set_anonymous(opt, True)
        if options.pkinit_identity:
            krb5.get_init_creds_opt_set_pa(ctx, opt, b'X509_user_identity',
                                           options.pkinit_identity.encode('utf-8'))
        if options.pkinit_anchors:
            krb5.get_init_creds_opt_set_pa(ctx, opt, b'X509_anchors',
                                           options.pkinit_anchors.encode('utf-8'))
        start = int(options.start_time or 0)
        if keytab is not None:
            creds = krb5.get_init_creds_keytab(ctx, client, opt,
                                               krb5.kt_resolve(ctx, keytab.encode('utf-8')),
                                               start_time=start)
        else:
            creds = krb5.get_init_creds_password(
                ctx, client, opt, password.encode('utf-8') if password is not None else None,
                start_time=start)
        cache = krb5.cc_resolve(ctx, ccache.encode('utf-8'))
        krb5.cc_initialize(ctx, cache, creds.client)
        krb5.cc_store_cred(ctx, cache, creds)
        requested = krb5.unparse_name_flags(ctx, client).decode('utf-8', 'replace')
        krb5.cc_set_config(ctx, cache, None, REQUEST_KEY, options.record(requested))
        return creds.client.name.decode('utf-8', 'replace')
    except krb5.Krb5Error as exc:
        raise from_krb5(exc, action)


def _store_library(source, target, principal):
    """Copy the cache ``source`` into a non-file cache ``target`` through libkrb5, as
    ``krb5_cc_copy_creds`` does (initialise, then store every entry, configuration included).

    ``target`` is one cache (a member of a KEYRING or KCM collection), never a collection
    name, which would stand for the collection's primary cache, whoever's it is. The library
    writes it in place; the primary is switched by the caller, not here.
    """
    krb5 = deps.krb5
    ctx = context()
    try:
        source_cache = krb5.cc_resolve(ctx, source.encode('utf-8'))
        cache = krb5.cc_resolve(ctx, target.name.encode('utf-8'))
        krb5.cc_initialize(ctx, cache, parse_principal(ctx, principal))
        for creds in source_cache:
            krb5.cc_store_cred(ctx, cache, creds)
    except krb5.Krb5Error as exc:
        raise from_krb5(exc, 'storing the ticket into %s' % target.name)


def collection_directory(directory, owner=None, group=None):
    """Make sure the directory of a DIR collection is safe to add cache files to.

    A missing directory is created with mode 0700 and given ``owner`` and ``group`` (through a
    descriptor opened without following links). An existing one must be a real directory (not
    a link), belong to ``owner`` (default the effective uid) or root, and be writable by its
    owner only: anyone else who may write there could swap the cache files or ``primary``.
    """
    uid, gid = intended_ids(owner, group)
    if not os.path.lexists(directory):
        try:
            os.makedirs(directory, 0o700)
        except OSError as exc:
            raise Krb5Error('cannot create the cache collection directory %s: %s'
                            % (directory, exc.strerror or exc), error_name='EACCES')
        created = True
    else:
        created = False
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        code = errno.ELOOP if os.path.islink(directory) else exc.errno  # O_DIRECTORY: ENOTDIR
        reason = {errno.ELOOP: 'it is a symbolic link',
                  errno.ENOTDIR: 'it is not a directory'}.get(code, exc.strerror or exc)
        raise FileWriteError('unsafe cache collection directory %s: %s' % (directory, reason),
                             error_name=errno.errorcode.get(code))
    try:
        if created:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, 0o700)
        st = os.fstat(fd)
    except OSError as exc:
        raise FileWriteError('cannot set the owner of %s: %s' % (directory, exc.strerror or exc),
                             error_name=errno.errorcode.get(exc.errno))
    finally:
        os.close(fd)
    if st.st_uid not in (uid, 0):
        raise FileWriteError('unsafe cache collection directory %s: it belongs to uid %d, '
                             'neither the owner (%d) nor root' % (directory, st.st_uid, uid),
                             error_name='EPERM')
    if stat.S_IMODE(st.st_mode) & 0o022:
        raise FileWriteError('unsafe cache collection directory %s: group or others may write '
                             'to it (mode %04o)' % (directory, stat.S_IMODE(st.st_mode)),
                             error_name='EPERM')


def _dir_target(target, principal, owner=None, group=None):
    """The file cache of ``principal`` in a DIR collection (an existing one or a new name)."""
    directory = target.directory
    collection_directory(directory, owner, group)
    ctx, cache = open_cache(target, principal)
    if cache is not None:
        name = '%s:%s' % (deps.krb5.cc_get_type(ctx, cache).decode(),
                          deps.krb5.cc_get_name(ctx, cache).decode())
        return CcacheName(name), False
    return CcacheName('DIR::%s/tkt%s' % (directory, uuid.uuid4().hex[:12])), True


def _library_target(target, principal):
    """The cache of ``principal`` in a KEYRING or KCM collection: the one there
    (``krb5_cc_cache_match``, as kinit does) or a new one (``krb5_cc_new_unique``)."""
    if not target.is_collection:
        return target, False
    krb5 = deps.krb5
    ctx, cache = open_cache(target, principal)
    if cache is None:
        try:
            krb5.cc_set_default_name(ctx, target.name.encode('utf-8'))
            cache = krb5.cc_new_unique(ctx, target.type.encode('utf-8'))
        except krb5.Krb5Error as exc:
            raise from_krb5(exc, 'creating a new cache in %s' % target.name)
        return CcacheName(full_name(ctx, cache)), True
    return CcacheName(full_name(ctx, cache)), False


def _install(workdir, target, principal, mode, owner, group, prepare=None):
    """Move the finished cache from ``workdir`` to ``target``; return the cache's name.

    In a collection the principal's cache is added or replaced; a new cache becomes the
    primary only when the collection has no primary cache yet.
    """
    if target.type == 'DIR' and target.is_collection:
        single, new = _dir_target(target, principal, owner, group)
        _write_file(workdir, single, mode, owner, group, prepare)
        primary = os.path.join(target.directory, 'primary')
        current = inspect_file(primary, mode=0o644, owner=owner, group=group, secret=False)
        current_name = (current['content'].decode('utf-8', 'replace').strip()
                        if current['kind'] == 'file' and current['content'] else '')
        primary_exists = bool(current_name) and '/' not in current_name and os.path.exists(
            os.path.join(target.directory, current_name))
        if new and not primary_exists:
            write_atomic(primary, (os.path.basename(single.path) + '\n').encode(), mode=0o644,
                         owner=owner, group=group)
        return single.name
    if target.is_file:
        _write_file(workdir, target, mode, owner, group, prepare)
        return target.name
    single, new = _library_target(target, principal)
    had_primary = primary_name(single) is not None
    _store_library(workdir.ccache, single, principal)
    if new and not had_primary:
        switch_primary(single)
    return single.name


def _write_file(workdir, target, mode, owner, group, prepare=None):
    """A new file at ``target.path`` (temporary file renamed over it: a link there is
    replaced, never followed)."""
    data = read_file(workdir.ccache[len('FILE:'):])
    if not data:
        raise Krb5Error('the library wrote no credential cache', error_name=None)
    write_atomic(target.path, data, mode=mode, owner=owner, group=group, prepare=prepare)


def acquire(target, principal, password=None, keytab=None, lifetime=None, renew_lifetime=None,
            mode=0o600, owner=None, group=None, prepare=None, options=None):
    """Get a new TGT for ``principal`` into the cache ``target`` (a :class:`CcacheName`).

    ``renew_lifetime=0`` asks for a ticket that is not renewable, ``None`` for the krb5.conf
    default. ``options``: a :class:`TicketOptions` (PKINIT and anonymous need neither password
    nor keytab). Returns :func:`.ccache.read_cache` of the installed cache.
    """
    deps.require(deps.GSSAPI, deps.PYKRB5)
    options = options or TicketOptions()
    passwordless = options.anonymous or bool(options.pkinit_identity)
    if password is not None and keytab is not None or (
            password is None and keytab is None and not passwordless):
        raise Krb5Error('acquire() needs a password or a keytab')
    if keytab is not None:
        _check_keytab(keytab, principal, options)
    client = principal
    with _Workdir(target) as workdir:
        with libdefaults_overlay(realm_of(principal), lifetime, renew_lifetime,
                                 settings=options.settings):
            if options.needs_library:
                client = _acquire_library(workdir.ccache, principal, options,
                                          password=password, keytab=keytab)
            else:
                _acquire_into(workdir.ccache, principal, password=password, keytab=keytab)
        name = _install(workdir, target, client, mode, owner, group, prepare)
    return read_cache(CcacheName(name), client)


def _check_keytab(keytab, principal, options=None):
    """Fail clearly when the client keytab has no key for ``principal``."""
    krb5 = deps.krb5
    ctx = context()
    try:
        handle = krb5.kt_resolve(ctx, keytab.encode('utf-8'))
        if parse_flags(options):
            return  # an enterprise name: the KDC tells which key it wants
        krb5.kt_get_entry(ctx, handle, parse_principal(ctx, principal))
    except krb5.Krb5Error as exc:
        raise from_krb5(exc, 'looking up the key of %s in keytab %s' % (principal, keytab))


def renew(target, principal, mode=0o600, owner=None, group=None, source=None, prepare=None,
          validate=False):
    """Renew the TGT of ``principal`` in ``target``; returns :func:`.ccache.read_cache`.

    ``source``: a private copy of the file cache ``target`` (checked without following links)
    to read the TGT from instead of the file at ``target`` itself. ``validate``: validate a
    postdated TGT (``kinit -v``, ``krb5_get_validated_creds``) instead of renewing it. The
    request entry of the cache (:data:`REQUEST_KEY`) is carried over.
    """
    deps.require(deps.PYKRB5)
    krb5 = deps.krb5
    ctx, cache = open_cache(source or target, principal)
    if cache is None:
        raise from_krb5(_NotFound(), 'renewing the ticket of %s' % principal)
    name = '%s:%s' % (krb5.cc_get_type(ctx, cache).decode(), krb5.cc_get_name(ctx, cache).decode())
    single = target if source is not None else CcacheName(name)
    client = parse_principal(ctx, principal)
    record = read_record(ctx, cache)
    with _Workdir(single) as workdir:
        try:
            if validate:
                creds = krb5.get_validated_creds(ctx, client, cache)
            else:
                creds = krb5.get_renewed_creds(ctx, client, cache)
            new_cache = krb5.cc_resolve(ctx, workdir.ccache.encode('utf-8'))
            krb5.cc_initialize(ctx, new_cache, client)
            krb5.cc_store_cred(ctx, new_cache, creds)
            if record is not None:
                krb5.cc_set_config(ctx, new_cache, None, REQUEST_KEY,
                                   json.dumps(record, sort_keys=True).encode('utf-8'))
        except krb5.Krb5Error as exc:
            # The cache named is the user's, not the private copy read from.
            raise from_krb5(exc, '%s the ticket of %s in %s'
                            % ('validating' if validate else 'renewing', principal, single.name))
        if single.is_file:
            _write_file(workdir, single, mode, owner, group, prepare)
        else:
            _store_library(workdir.ccache, single, principal)
    return read_cache(single, principal)


class _NotFound(Exception):
    err_code = -1765328243  # KRB5_CC_NOTFOUND

    def __str__(self):
        return 'Matching credential not found'


__all__ = ['acquire', 'renew', 'context', 'TicketOptions', 'read_record']
