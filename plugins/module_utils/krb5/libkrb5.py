# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ctypes binding of the part of MIT's ``libkrb5.so.3`` that the krb5 modules need.

Why: pykrb5 (pip ``krb5``) is not packaged by Debian or Ubuntu, and PEP 668 forbids pip in
their system Python, so a stock managed host has python-gssapi (``python3-gssapi``) but no
pykrb5. GSSAPI has no call to list the tickets of a cache, renew a ticket, list a keytab or
destroy a cache; libkrb5 itself, which python-gssapi already links, has them. This module
provides exactly the subset of pykrb5's API that :mod:`.ccache`, :mod:`.acquire`,
:mod:`.keytab` and :mod:`.ticket` use, with the same names, argument order, return types and
``Krb5Error`` (``err_code``, ``message``, ``str()`` = message and code), so :mod:`.deps` can
hand out either one as ``deps.krb5``.

Memory: every object the library allocates is owned by exactly one Python object and freed in
its ``__del__`` (``krb5_free_context``, ``krb5_free_principal``, ``krb5_cc_close``,
``krb5_kt_close``, ``krb5_free_cred_contents``); strings and error messages are copied and
freed at once (``krb5_free_unparsed_name``, ``krb5_free_error_message``). Keytab entries keep
no key material: the enctype is copied and the entry's contents are freed immediately.

Structure layouts follow MIT's ``krb5.h`` (``krb5_data``, ``krb5_keyblock``,
``krb5_ticket_times``, ``krb5_creds``, ``krb5_keytab_entry``); they are the same on every
MIT release since 1.0 on LP64 Linux.
"""

import collections
import ctypes
import ctypes.util
import enum

from ..common.deps import OptionalDependency
from ..common.errors import MissingDependencyError

LIBKRB5 = OptionalDependency('libkrb5', deb='libkrb5-3', rpm='krb5-libs', python=False,
                             reason='(MIT Kerberos)')

KRB5_CC_END = -1765328242
KRB5_KT_END = -1765328202
KRB5_PARSE_MALFORMED = -1765328250
KRB5_CC_BADNAME = -1765328245
KRB5_KT_BADNAME = -1765328205
KRB5_PREAUTH_FAILED = -1765328174
_MAX_KEYTAB_NAME_LEN = 1100

_krb5_magic = ctypes.c_int32
_krb5_timestamp = ctypes.c_int32
_krb5_context = ctypes.c_void_p
_krb5_principal = ctypes.c_void_p
_krb5_ccache = ctypes.c_void_p
_krb5_keytab = ctypes.c_void_p
_krb5_cursor = ctypes.c_void_p
_krb5_cccol_cursor = ctypes.c_void_p
_krb5_gic_opt = ctypes.c_void_p


class _Data(ctypes.Structure):
    _fields_ = [('magic', _krb5_magic), ('length', ctypes.c_uint),
                ('data', ctypes.c_void_p)]


class _Keyblock(ctypes.Structure):
    _fields_ = [('magic', _krb5_magic), ('enctype', ctypes.c_int32),
                ('length', ctypes.c_uint), ('contents', ctypes.c_void_p)]


class _TicketTimes(ctypes.Structure):
    _fields_ = [('authtime', _krb5_timestamp), ('starttime', _krb5_timestamp),
                ('endtime', _krb5_timestamp), ('renew_till', _krb5_timestamp)]


class _Creds(ctypes.Structure):
    _fields_ = [('magic', _krb5_magic), ('client', _krb5_principal),
                ('server', _krb5_principal), ('keyblock', _Keyblock),
                ('times', _TicketTimes), ('is_skey', ctypes.c_uint),
                ('ticket_flags', ctypes.c_int32), ('addresses', ctypes.c_void_p),
                ('ticket', _Data), ('second_ticket', _Data), ('authdata', ctypes.c_void_p)]


class _KeytabEntry(ctypes.Structure):
    _fields_ = [('magic', _krb5_magic), ('principal', _krb5_principal),
                ('timestamp', _krb5_timestamp), ('vno', ctypes.c_uint),
                ('key', _Keyblock)]


_P = ctypes.POINTER
_ERR = ctypes.c_int32
_SIGNATURES = {
    'krb5_init_context': (_ERR, [_P(_krb5_context)]),
    'krb5_free_context': (None, [_krb5_context]),
    'krb5_get_error_message': (ctypes.c_void_p, [_krb5_context, _ERR]),
    'krb5_free_error_message': (None, [_krb5_context, ctypes.c_void_p]),
    'krb5_parse_name_flags': (_ERR, [_krb5_context, ctypes.c_char_p, ctypes.c_int,
                                     _P(_krb5_principal)]),
    'krb5_unparse_name_flags': (_ERR, [_krb5_context, _krb5_principal, ctypes.c_int,
                                       _P(ctypes.c_void_p)]),
    'krb5_free_unparsed_name': (None, [_krb5_context, ctypes.c_void_p]),
    'krb5_copy_principal': (_ERR, [_krb5_context, _krb5_principal, _P(_krb5_principal)]),
    'krb5_free_principal': (None, [_krb5_context, _krb5_principal]),
    'krb5_cc_default_name': (ctypes.c_char_p, [_krb5_context]),
    'krb5_cc_set_default_name': (_ERR, [_krb5_context, ctypes.c_char_p]),
    'krb5_cc_resolve': (_ERR, [_krb5_context, ctypes.c_char_p, _P(_krb5_ccache)]),
    'krb5_cc_cache_match': (_ERR, [_krb5_context, _krb5_principal, _P(_krb5_ccache)]),
    'krb5_cc_close': (_ERR, [_krb5_context, _krb5_ccache]),
    'krb5_cc_destroy': (_ERR, [_krb5_context, _krb5_ccache]),
    'krb5_cc_get_type': (ctypes.c_char_p, [_krb5_context, _krb5_ccache]),
    'krb5_cc_get_name': (ctypes.c_char_p, [_krb5_context, _krb5_ccache]),
    'krb5_cc_get_principal': (_ERR, [_krb5_context, _krb5_ccache, _P(_krb5_principal)]),
    'krb5_cc_initialize': (_ERR, [_krb5_context, _krb5_ccache, _krb5_principal]),
    'krb5_cc_store_cred': (_ERR, [_krb5_context, _krb5_ccache, _P(_Creds)]),
    'krb5_cc_start_seq_get': (_ERR, [_krb5_context, _krb5_ccache, _P(_krb5_cursor)]),
    'krb5_cc_next_cred': (_ERR, [_krb5_context, _krb5_ccache, _P(_krb5_cursor), _P(_Creds)]),
    'krb5_cc_end_seq_get': (_ERR, [_krb5_context, _krb5_ccache, _P(_krb5_cursor)]),
    'krb5_free_cred_contents': (None, [_krb5_context, _P(_Creds)]),
    'krb5_get_renewed_creds': (_ERR, [_krb5_context, _P(_Creds), _krb5_principal, _krb5_ccache,
                                      ctypes.c_char_p]),
    'krb5_kt_default_name': (_ERR, [_krb5_context, ctypes.c_char_p, ctypes.c_int]),
    'krb5_kt_resolve': (_ERR, [_krb5_context, ctypes.c_char_p, _P(_krb5_keytab)]),
    'krb5_kt_close': (_ERR, [_krb5_context, _krb5_keytab]),
    'krb5_kt_get_entry': (_ERR, [_krb5_context, _krb5_keytab, _krb5_principal, ctypes.c_uint,
                                 ctypes.c_int32, _P(_KeytabEntry)]),
    'krb5_kt_start_seq_get': (_ERR, [_krb5_context, _krb5_keytab, _P(_krb5_cursor)]),
    'krb5_kt_next_entry': (_ERR, [_krb5_context, _krb5_keytab, _P(_KeytabEntry),
                                  _P(_krb5_cursor)]),
    'krb5_kt_end_seq_get': (_ERR, [_krb5_context, _krb5_keytab, _P(_krb5_cursor)]),
    'krb5_free_keytab_entry_contents': (_ERR, [_krb5_context, _P(_KeytabEntry)]),
    # Cache collections (DIR:, KEYRING:, KCM:): listing their caches, switching the primary.
    'krb5_cccol_cursor_new': (_ERR, [_krb5_context, _P(_krb5_cccol_cursor)]),
    'krb5_cccol_cursor_next': (_ERR, [_krb5_context, _krb5_cccol_cursor, _P(_krb5_ccache)]),
    'krb5_cccol_cursor_free': (_ERR, [_krb5_context, _P(_krb5_cccol_cursor)]),
    'krb5_cc_switch': (_ERR, [_krb5_context, _krb5_ccache]),
    'krb5_cc_new_unique': (_ERR, [_krb5_context, ctypes.c_char_p, ctypes.c_char_p,
                                  _P(_krb5_ccache)]),
    'krb5_cc_support_switch': (ctypes.c_uint, [_krb5_context, ctypes.c_char_p]),
    # Initial credentials with options (krb5_ticket's forwardable, proxiable, anonymous,
    # canonicalize, PKINIT, postdating) and validation of a postdated ticket.
    'krb5_get_init_creds_opt_alloc': (_ERR, [_krb5_context, _P(_krb5_gic_opt)]),
    'krb5_get_init_creds_opt_free': (None, [_krb5_context, _krb5_gic_opt]),
    'krb5_get_init_creds_opt_set_forwardable': (None, [_krb5_gic_opt, ctypes.c_int]),
    'krb5_get_init_creds_opt_set_proxiable': (None, [_krb5_gic_opt, ctypes.c_int]),
    'krb5_get_init_creds_opt_set_anonymous': (None, [_krb5_gic_opt, ctypes.c_int]),
    'krb5_get_init_creds_opt_set_canonicalize': (None, [_krb5_gic_opt, ctypes.c_int]),
    'krb5_get_init_creds_opt_set_pa': (_ERR, [_krb5_context, _krb5_gic_opt, ctypes.c_char_p,
                                              ctypes.c_char_p]),
    'krb5_get_init_creds_password': (_ERR, [_krb5_context, _P(_Creds), _krb5_principal,
                                            ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                            ctypes.c_int32, ctypes.c_char_p, _krb5_gic_opt]),
    'krb5_get_init_creds_keytab': (_ERR, [_krb5_context, _P(_Creds), _krb5_principal,
                                          _krb5_keytab, ctypes.c_int32, ctypes.c_char_p,
                                          _krb5_gic_opt]),
    'krb5_get_validated_creds': (_ERR, [_krb5_context, _P(_Creds), _krb5_principal,
                                        _krb5_ccache, ctypes.c_char_p]),
    'krb5_cc_set_config': (_ERR, [_krb5_context, _krb5_ccache, _krb5_principal,
                                  ctypes.c_char_p, _P(_Data)]),
    'krb5_cc_get_config': (_ERR, [_krb5_context, _krb5_ccache, _krb5_principal,
                                  ctypes.c_char_p, _P(_Data)]),
    'krb5_free_data_contents': (None, [_krb5_context, _P(_Data)]),
}


class _Library(object):
    """``libkrb5.so.3`` with the C signatures of the functions above."""

    def __init__(self, name=None):
        path = name or 'libkrb5.so.3'
        try:
            library = ctypes.CDLL(path)
        except OSError:
            found = ctypes.util.find_library('krb5')
            if not found or name:
                raise
            library = ctypes.CDLL(found)
            path = found
        self.path = path
        for func_name, (restype, argtypes) in _SIGNATURES.items():
            try:
                func = getattr(library, func_name)
            except AttributeError:
                raise OSError('%s does not provide %s(): not an MIT Kerberos library'
                              % (path, func_name))
            func.restype = restype
            func.argtypes = argtypes
            setattr(self, func_name[len('krb5_'):], func)


_LIB = []


def load(name=None):
    """The loaded library (``OSError`` when there is no usable MIT libkrb5)."""
    if not _LIB:
        _LIB.append(_Library(name))
    return _LIB[0]


def _lib():
    try:
        return load()
    except OSError as exc:
        dependency = OptionalDependency(LIBKRB5.name, deb=LIBKRB5.deb, rpm=LIBKRB5.rpm,
                                        python=False, reason=LIBKRB5.reason)
        dependency.failed(exc)
        raise MissingDependencyError(dependency.message(), details={'dependency': 'libkrb5'})


class Krb5Error(Exception):
    """A failed libkrb5 call: ``err_code`` is the Kerberos error code, ``message`` its text.

    ``str()`` is the message followed by the code, as pykrb5's ``Krb5Error`` has it.
    """

    def __init__(self, context, err_code):
        self.err_code = int(err_code)
        self.message = _error_message(context, self.err_code)
        super(Krb5Error, self).__init__('%s %d' % (self.message, self.err_code))


def _error_message(context, code):
    lib = _lib()
    handle = context.handle if context is not None else None
    pointer = lib.get_error_message(handle, code)
    if not pointer:
        return 'Unknown code %d' % code
    try:
        return ctypes.string_at(pointer).decode('utf-8', 'replace')
    finally:
        lib.free_error_message(handle, pointer)


def _check(context, code):
    if code:
        raise Krb5Error(context, code)


def _c_string(context, value, code):
    """``value`` for a ``const char *``: a NUL inside would silently cut the name short in C,
    so it is refused with the library's "bad name" error ``code``."""
    if b'\0' in value:
        raise Krb5Error(context, code)
    return value


class PrincipalParseFlags(enum.IntFlag):
    """``krb5_parse_name_flags`` flags, with pykrb5's names."""
    none = 0
    no_realm = 1
    require_realm = 2
    enterprise = 4
    ignore_realm = 8


class TicketTimes(collections.namedtuple('TicketTimes', 'authtime starttime endtime renew_till')):
    """The times of a ticket (seconds since the epoch; 0 when not set)."""
    __slots__ = ()


class TicketFlags(enum.IntFlag):
    """Ticket flags with pykrb5's names and values (flag n of RFC 4120's TicketFlags is
    ``1 << n``)."""
    reserved = 0x1
    forwardable = 0x2
    forwarded = 0x4
    proxiable = 0x8
    proxy = 0x10
    may_postdate = 0x20
    postdated = 0x40
    invalid = 0x80
    renewable = 0x100
    initial = 0x200
    pre_authent = 0x400
    hw_authent = 0x800
    transited_policy_checked = 0x1000
    ok_as_delegate = 0x2000
    enc_pa_rep = 0x8000
    anonymous = 0x10000


def _timestamp(value):
    """MIT treats krb5_timestamp as unsigned (dates after 2038)."""
    return int(value) & 0xffffffff


class Context(object):
    """A ``krb5_context``."""

    def __init__(self):
        self._lib = _lib()
        handle = _krb5_context()
        code = self._lib.init_context(ctypes.byref(handle))
        if code:
            raise Krb5Error(None, code)
        self.handle = handle

    def __del__(self):
        handle, self.handle = getattr(self, 'handle', None), None
        if handle:
            self._lib.free_context(handle)


class Principal(object):
    """A ``krb5_principal`` owned by this object."""

    def __init__(self, context, handle):
        self._context = context
        self.handle = handle

    @property
    def name(self):
        return unparse_name_flags(self._context, self)

    def __str__(self):
        return self.name.decode('utf-8', 'replace')

    def __repr__(self):
        return 'Principal(%s)' % self

    def __del__(self):
        handle, self.handle = getattr(self, 'handle', None), None
        if handle:
            self._context._lib.free_principal(self._context.handle, handle)


def _copy_principal(context, handle):
    if not handle:
        return None
    copy = _krb5_principal()
    _check(context, context._lib.copy_principal(context.handle, handle, ctypes.byref(copy)))
    return Principal(context, copy)


class KeyBlock(object):
    """The enctype of a key (the key itself is not kept)."""

    def __init__(self, enctype):
        self.enctype = int(enctype)


class Creds(object):
    """A ``krb5_creds`` whose contents this object owns."""

    def __init__(self, context, raw):
        self._context = context
        self.raw = raw
        self.client = _copy_principal(context, raw.client)
        self.server = _copy_principal(context, raw.server)

    @property
    def keyblock(self):
        return KeyBlock(self.raw.keyblock.enctype)

    @property
    def times(self):
        times = self.raw.times
        return TicketTimes(_timestamp(times.authtime), _timestamp(times.starttime),
                           _timestamp(times.endtime), _timestamp(times.renew_till))

    @property
    def ticket_flags_raw(self):
        return int(self.raw.ticket_flags) & 0xffffffff

    @property
    def ticket_flags(self):
        """MIT keeps flag n of the KDC's bit string as ``0x80000000 >> n``; pykrb5's
        :class:`TicketFlags` has it as ``1 << n``."""
        raw = self.ticket_flags_raw
        value = sum(1 << bit for bit in range(32) if raw & (0x80000000 >> bit))
        return TicketFlags(value & sum(int(flag) for flag in TicketFlags))

    def __del__(self):
        raw, self.raw = getattr(self, 'raw', None), None
        if raw is not None:
            self._context._lib.free_cred_contents(self._context.handle, ctypes.byref(raw))


class CCache(object):
    """A ``krb5_ccache``; iterating it yields its :class:`Creds`."""

    def __init__(self, context, handle):
        self._context = context
        self.handle = handle

    def __iter__(self):
        context, lib = self._context, self._context._lib
        cursor = _krb5_cursor()
        _check(context, lib.cc_start_seq_get(context.handle, self.handle, ctypes.byref(cursor)))
        try:
            while True:
                raw = _Creds()
                code = lib.cc_next_cred(context.handle, self.handle, ctypes.byref(cursor),
                                        ctypes.byref(raw))
                if code == KRB5_CC_END:
                    break
                _check(context, code)
                yield Creds(context, raw)
        finally:
            lib.cc_end_seq_get(context.handle, self.handle, ctypes.byref(cursor))

    @property
    def name(self):
        return cc_get_name(self._context, self)

    @property
    def cache_type(self):
        return cc_get_type(self._context, self)

    def __del__(self):
        handle, self.handle = getattr(self, 'handle', None), None
        if handle:
            self._context._lib.cc_close(self._context.handle, handle)


class KeyTabEntry(object):
    """One keytab entry: principal, kvno, timestamp and the key's enctype (no key material)."""

    def __init__(self, context, raw):
        self.principal = _copy_principal(context, raw.principal)
        self.kvno = int(raw.vno)
        self.timestamp = _timestamp(raw.timestamp)
        self.key = KeyBlock(raw.key.enctype)


def _entry(context, raw):
    """A :class:`KeyTabEntry` of ``raw``, whose contents (the key) are freed at once."""
    try:
        return KeyTabEntry(context, raw)
    finally:
        context._lib.free_keytab_entry_contents(context.handle, ctypes.byref(raw))


class KeyTab(object):
    """A ``krb5_keytab``; iterating it yields its :class:`KeyTabEntry`."""

    def __init__(self, context, handle):
        self._context = context
        self.handle = handle

    def __iter__(self):
        context, lib = self._context, self._context._lib
        cursor = _krb5_cursor()
        _check(context, lib.kt_start_seq_get(context.handle, self.handle, ctypes.byref(cursor)))
        try:
            while True:
                raw = _KeytabEntry()
                code = lib.kt_next_entry(context.handle, self.handle, ctypes.byref(raw),
                                         ctypes.byref(cursor))
                if code == KRB5_KT_END:
                    break
                _check(context, code)
                yield _entry(context, raw)
        finally:
            lib.kt_end_seq_get(context.handle, self.handle, ctypes.byref(cursor))

    def __del__(self):
        handle, self.handle = getattr(self, 'handle', None), None
        if handle:
            self._context._lib.kt_close(self._context.handle, handle)


# The functions, with pykrb5's names and signatures.

def init_context():
    return Context()


def parse_name_flags(context, name, flags=0):
    handle = _krb5_principal()
    name = _c_string(context, name, KRB5_PARSE_MALFORMED)
    _check(context, context._lib.parse_name_flags(context.handle, name, int(flags),
                                                  ctypes.byref(handle)))
    return Principal(context, handle)


def unparse_name_flags(context, principal, flags=0):
    pointer = ctypes.c_void_p()
    _check(context, context._lib.unparse_name_flags(context.handle, principal.handle, int(flags),
                                                    ctypes.byref(pointer)))
    try:
        return ctypes.string_at(pointer)
    finally:
        context._lib.free_unparsed_name(context.handle, pointer)


def cc_default_name(context):
    return context._lib.cc_default_name(context.handle) or b''


def cc_set_default_name(context, name):
    name = _c_string(context, name, KRB5_CC_BADNAME)
    _check(context, context._lib.cc_set_default_name(context.handle, name))


def cc_resolve(context, name):
    name = _c_string(context, name, KRB5_CC_BADNAME)
    handle = _krb5_ccache()
    _check(context, context._lib.cc_resolve(context.handle, name, ctypes.byref(handle)))
    return CCache(context, handle)


def cc_cache_match(context, principal):
    handle = _krb5_ccache()
    _check(context, context._lib.cc_cache_match(context.handle, principal.handle,
                                                ctypes.byref(handle)))
    return CCache(context, handle)


def cc_get_type(context, cache):
    return context._lib.cc_get_type(context.handle, cache.handle) or b''


def cc_get_name(context, cache):
    return context._lib.cc_get_name(context.handle, cache.handle) or b''


def cc_get_principal(context, cache):
    handle = _krb5_principal()
    _check(context, context._lib.cc_get_principal(context.handle, cache.handle,
                                                  ctypes.byref(handle)))
    return Principal(context, handle)


def cc_initialize(context, cache, principal):
    _check(context, context._lib.cc_initialize(context.handle, cache.handle, principal.handle))


def cc_store_cred(context, cache, creds):
    _check(context, context._lib.cc_store_cred(context.handle, cache.handle,
                                               ctypes.byref(creds.raw)))


def cc_destroy(context, cache):
    """Destroy the cache; the library closes the handle too, even when it fails."""
    handle, cache.handle = cache.handle, None
    _check(context, context._lib.cc_destroy(context.handle, handle))


def cc_switch(context, cache):
    """Make ``cache`` the primary cache of its collection."""
    _check(context, context._lib.cc_switch(context.handle, cache.handle))


def cc_new_unique(context, cred_type, hint=None):
    """A new cache of type ``cred_type`` with a unique name (in the collection of the default
    cache name, for KEYRING and KCM)."""
    cred_type = _c_string(context, cred_type, KRB5_CC_BADNAME)
    handle = _krb5_ccache()
    _check(context, context._lib.cc_new_unique(context.handle, cred_type, hint,
                                               ctypes.byref(handle)))
    return CCache(context, handle)


def cc_support_switch(context, cache_type):
    return bool(context._lib.cc_support_switch(context.handle, cache_type))


def cccol_iter(context):
    """Every cache of the collection of the context's default cache name (``klist -l``),
    as :class:`CCache` objects, like pykrb5's ``cccol_iter``."""
    lib = context._lib
    cursor = _krb5_cccol_cursor()
    _check(context, lib.cccol_cursor_new(context.handle, ctypes.byref(cursor)))
    try:
        while True:
            handle = _krb5_ccache()
            _check(context, lib.cccol_cursor_next(context.handle, cursor, ctypes.byref(handle)))
            if not handle:
                break
            yield CCache(context, handle)
    finally:
        lib.cccol_cursor_free(context.handle, ctypes.byref(cursor))


def get_renewed_creds(context, client, ccache, in_tkt_service=None):
    raw = _Creds()
    _check(context, context._lib.get_renewed_creds(context.handle, ctypes.byref(raw),
                                                   client.handle, ccache.handle, in_tkt_service))
    return Creds(context, raw)


def kt_default_name(context):
    buffer = ctypes.create_string_buffer(_MAX_KEYTAB_NAME_LEN + 1)
    _check(context, context._lib.kt_default_name(context.handle, buffer, len(buffer)))
    return buffer.value


def kt_resolve(context, name):
    name = _c_string(context, name, KRB5_KT_BADNAME)
    handle = _krb5_keytab()
    _check(context, context._lib.kt_resolve(context.handle, name, ctypes.byref(handle)))
    return KeyTab(context, handle)


def kt_get_entry(context, keytab, principal, kvno=0, enctype=0):
    raw = _KeytabEntry()
    _check(context, context._lib.kt_get_entry(context.handle, keytab.handle, principal.handle,
                                              kvno, enctype, ctypes.byref(raw)))
    return _entry(context, raw)


class GetInitCredsOpt(object):
    """A ``krb5_get_init_creds_opt`` (``krb5_get_init_creds_opt_alloc``), freed with this
    object."""

    def __init__(self, context, handle):
        self._context = context
        self.handle = handle

    def __del__(self):
        handle, self.handle = getattr(self, 'handle', None), None
        if handle:
            self._context._lib.get_init_creds_opt_free(self._context.handle, handle)


def get_init_creds_opt_alloc(context):
    handle = _krb5_gic_opt()
    _check(context, context._lib.get_init_creds_opt_alloc(context.handle, ctypes.byref(handle)))
    return GetInitCredsOpt(context, handle)


def get_init_creds_opt_set_forwardable(opt, forwardable):
    opt._context._lib.get_init_creds_opt_set_forwardable(opt.handle, int(bool(forwardable)))


def get_init_creds_opt_set_proxiable(opt, proxiable):
    opt._context._lib.get_init_creds_opt_set_proxiable(opt.handle, int(bool(proxiable)))


def get_init_creds_opt_set_anonymous(opt, anonymous):
    opt._context._lib.get_init_creds_opt_set_anonymous(opt.handle, int(bool(anonymous)))


def get_init_creds_opt_set_canonicalize(opt, canonicalize):
    opt._context._lib.get_init_creds_opt_set_canonicalize(opt.handle, int(bool(canonicalize)))


def get_init_creds_opt_set_pa(context, opt, attr, value):
    """A pre-authentication option, e.g. ``X509_user_identity`` (``kinit -X attr=value``)."""
    attr = _c_string(context, attr, KRB5_PREAUTH_FAILED)
    value = _c_string(context, value, KRB5_PREAUTH_FAILED)
    _check(context, context._lib.get_init_creds_opt_set_pa(context.handle, opt.handle, attr, value))


def get_init_creds_password(context, client, k5_gic_options, password=None, start_time=0,
                            in_tkt_service=None, prompter=None):
    """Initial credentials with ``password`` (``None``: none, e.g. PKINIT or anonymous; there
    is never a prompter: a question the library would ask fails the call)."""
    if prompter is not None:
        raise NotImplementedError('the libkrb5 binding has no prompter')
    if password is not None:
        password = _c_string(context, password, KRB5_PREAUTH_FAILED)
    raw = _Creds()
    _check(context, context._lib.get_init_creds_password(
        context.handle, ctypes.byref(raw), client.handle, password, None, None,
        int(start_time), in_tkt_service, k5_gic_options.handle if k5_gic_options else None))
    return Creds(context, raw)


def get_init_creds_keytab(context, client, k5_gic_options, keytab, start_time=0,
                          in_tkt_service=None):
    raw = _Creds()
    _check(context, context._lib.get_init_creds_keytab(
        context.handle, ctypes.byref(raw), client.handle, keytab.handle, int(start_time),
        in_tkt_service, k5_gic_options.handle if k5_gic_options else None))
    return Creds(context, raw)


def get_validated_creds(context, client, ccache, in_tkt_service=None):
    raw = _Creds()
    _check(context, context._lib.get_validated_creds(context.handle, ctypes.byref(raw),
                                                     client.handle, ccache.handle,
                                                     in_tkt_service))
    return Creds(context, raw)


def cc_set_config(context, cache, principal, key, data):
    key = _c_string(context, key, KRB5_CC_BADNAME)
    buffer = ctypes.create_string_buffer(bytes(data), len(data))
    value = _Data(0, len(data), ctypes.cast(buffer, ctypes.c_void_p))
    _check(context, context._lib.cc_set_config(context.handle, cache.handle,
                                               principal.handle if principal else None, key,
                                               ctypes.byref(value)))


def cc_get_config(context, cache, principal, key):
    key = _c_string(context, key, KRB5_CC_BADNAME)
    value = _Data()
    _check(context, context._lib.cc_get_config(context.handle, cache.handle,
                                               principal.handle if principal else None, key,
                                               ctypes.byref(value)))
    try:
        return ctypes.string_at(value.data, value.length) if value.length else b''
    finally:
        context._lib.free_data_contents(context.handle, ctypes.byref(value))
