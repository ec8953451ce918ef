# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state logic of ``krb5_ticket``: read the cache, decide, then (unless check mode) act.

Deciding reads only the local cache (pykrb5), so a run that changes nothing contacts no KDC.
The decision for ``state=present``, in order:

1. ``force`` -> ``acquire``;
2. no cache, a cache for another principal, an unreadable file, or no TGT -> ``acquire``;
3. ``renewable`` wanted but the TGT is not renewable, or the TGT does not match a ticket
   option that was set (:func:`option_mismatch`: ``forwardable``, ``proxiable``,
   ``anonymous``, postdated for ``start_time``, and, from the cache's request entry,
   ``address_restricted`` and ``canonicalize``) -> ``acquire``;
3a. a postdated TGT that is still invalid: ``validate`` once its start time has passed (with
   ``validate``), else nothing while it waits (with ``start_time`` or ``validate``), else
   ``acquire``;
4. the TGT has less than ``min_lifetime`` left: ``renew`` when it is renewable, still valid
   and its renew-till time lies at least ``min_lifetime`` ahead, else ``acquire``;
5. else nothing, apart from the mode and group of a file cache (``attributes``).

A file cache is judged without following a link (:func:`..common.files.inspect_file`): a link,
something that is not a regular file, a file of another owner than the intended one (``owner``,
default the effective uid), with several hard links, or one that grants group/other more than
``mode`` is *unsafe*: it is never read through the library, never chowned or chmodded, but
replaced by a new cache (``acquire``). A safe file is read once through a descriptor, and the
library parses that private copy, so what is decided on is what the descriptor holds.

``acquire`` needs a password or a keytab (or ``pkinit_identity``, or ``anonymous``); without
them the run fails with a clear message.

Names: the cache must belong to the requested client. With ``enterprise`` or ``canonicalize``
the KDC may return another client name than the one asked for; a cache that this module
filled records the requested name (the request entry of :mod:`.acquire`), and a cache whose
record names the same request is kept whatever client the KDC returned. A cache from kinit
(no record) is kept only when its client is the requested name. An anonymous ticket's client
is ``WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS``; its TGT must be of the requested realm.
"""

import os
import shutil
import tempfile

from ..common.errors import InvalidInputError
from ..common.files import ensure_file, inspect_file, intended_ids, write_atomic
from . import acquire as acquiring
from . import ccache as caches
from .errors import Krb5Error
from .util import now, realm_of

# The KDC's answer to a validation before the start time of the ticket, by its own clock.
NOT_YET_VALID = 'KRB5KRB_AP_ERR_TKT_NYV'


def _summary(info):
    """The part of a cache's state shown in diffs and results."""
    if not info or not info.get('exists'):
        return {'exists': False}
    tgt = info.get('tgt') or {}
    return {'exists': True, 'ccache': info['ccache'], 'principal': info['principal'],
            'start': tgt.get('start'), 'end': tgt.get('end'), 'renew_till': tgt.get('renew_till'),
            'renewable': 'renewable' in tgt.get('flags', []), 'tgt_valid': info.get('tgt_valid', False),
            'flags': tgt.get('flags')}


UNSAFE = {
    'symlink': 'it is a symbolic link',
    'other': 'it is not a regular file',
    'not_owner': 'it belongs to another user than the intended owner',
    'hard_link': 'it has more than one hard link',
    'exposed': 'its mode lets group or others read it',
    'foreign_group': 'its mode lets another group read it',
}


class _SafeCopy(object):
    """The file cache at ``target`` judged without following links, and a private copy of a
    safe one for the library to read (removed on exit)."""

    def __init__(self, target, mode, owner, group):
        self.target = target
        self.mode, self.owner, self.group = mode, owner, group
        self.state = None
        self.workdir = None
        self.source = None
        if target.is_file:
            self.state = inspect_file(target.path, mode=mode, owner=owner, group=group, secret=True)
            if self.state['kind'] == 'file' and not self.state['problem']:
                if self.state['content'] is None:
                    self.state['problem'] = 'other'
                else:
                    self.workdir = tempfile.mkdtemp(prefix='hostsec-krb5-read-')
                    copy = os.path.join(self.workdir, 'ccache')
                    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        os.write(fd, self.state['content'])
                    finally:
                        os.close(fd)
                    self.source = caches.CcacheName('FILE:' + copy)

    @property
    def problem(self):
        return self.state['problem'] if self.state else None

    def read(self, principal, ctx):
        """:func:`.ccache.read_cache` of the target, as seen through the checked descriptor."""
        if self.problem:
            return {'requested': self.target.name, 'ccache': self.target.name,
                    'type': self.target.type, 'state': 'invalid', 'exists': False,
                    'principal': None, 'tickets': [], 'tgt': None, 'tgt_valid': False,
                    'path': self.target.path, 'unsafe': self.problem,
                    'read_error': 'not a safe credential cache: %s' % UNSAFE[self.problem]}
        info = caches.read_cache(self.source or self.target, principal, ctx)
        if self.source is not None:
            info.update(requested=self.target.name, ccache=self.target.name,
                        path=self.target.path)
        elif info['exists'] and info.get('path'):
            # A cache of a collection, found by the library: judge its file all the same.
            state = inspect_file(info['path'], mode=self.mode, owner=self.owner,
                                 group=self.group, read=False)
            if state['problem']:
                info.update(state='invalid', principal=None, tickets=[], tgt=None,
                            tgt_valid=False, unsafe=state['problem'],
                            read_error='not a safe credential cache: %s'
                            % UNSAFE[state['problem']])
        return info

    def close(self):
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


class TicketRequest(object):
    """What the user asked for (already validated option values)."""

    def __init__(self, principal=None, ccache=None, password=None, keytab=None, lifetime=None,
                 renewable=False, renew_lifetime=None, min_lifetime=3600, force=False,
                 mode=0o600, owner=None, group=None, prepare=None, replace=None,
                 switch=False, everything=False, options=None, validate=False):
        self.principal = principal
        self.ccache = ccache
        self.password = password
        self.keytab = keytab
        self.lifetime = lifetime
        self.renewable = renewable or bool(renew_lifetime)
        self.renew_lifetime = renew_lifetime
        self.min_lifetime = min_lifetime
        self.force = force
        # switch: make the principal's cache the primary of its collection;
        # everything: state=absent destroys every cache of the collection (kdestroy -A).
        self.switch = switch
        self.everything = everything
        self.mode = mode
        self.owner = owner
        self.group = group
        # prepare(tmp): called on a new cache file before it is renamed into place (SELinux);
        # replace(path): whether a kept cache file must still be rewritten (its context differs).
        self.prepare = prepare
        self.replace = replace
        # Ticket options beyond the lifetimes (acquire.TicketOptions) and kinit -v.
        self.options = options or acquiring.TicketOptions()
        self.validate = validate
        # The name sent to the KDC (set by present()); principal is the client expected.
        self.requested = None
        self.enterprise_name = principal if self.options.enterprise else None
        intended_ids(owner, group)  # unknown users and groups fail before anything is done
        if everything and principal:
            raise InvalidInputError('all destroys every cache of the collection: it takes no '
                                    'principal')
        if password is not None and keytab is not None:
            raise InvalidInputError('password and keytab are mutually exclusive')
        if lifetime is not None and lifetime <= min_lifetime:
            raise InvalidInputError(
                'lifetime (%ds) must be longer than min_lifetime (%ds), or every run would get '
                'a new ticket' % (lifetime, min_lifetime))
        if keytab is not None and not os.path.exists(keytab.split(':', 1)[-1]
                                                     if keytab.upper().startswith(('FILE:', 'WRFILE:'))
                                                     else keytab):
            from .errors import KeytabError  # pylint: disable=import-outside-toplevel
            raise KeytabError('keytab %s does not exist' % keytab, error_name='KRB5_KT_NOTFOUND')

    @property
    def renew_lifetime_request(self):
        """The renew lifetime to request: ``0`` (not renewable) unless renewable is wanted."""
        if self.renew_lifetime:
            return self.renew_lifetime
        return None if self.renewable else 0


def option_mismatch(request, tgt, record):
    """Why the cached ``tgt`` does not carry the requested ticket options (``None``: it does).

    ``record``: the cache's request entry (``None`` for a cache this module did not fill:
    addressless, not canonicalized, as kinit's defaults are)."""
    options = request.options
    flags = tgt['flags']
    for option in ('forwardable', 'proxiable'):
        wanted = getattr(options, option)
        if wanted is not None and (option in flags) != wanted:
            return 'the TGT is %s%s' % ('not ' if wanted else '', option)
    if options.anonymous and 'anonymous' not in flags:
        return 'the TGT is not anonymous'
    if options.start_time and 'postdated' not in flags:
        return 'the TGT is not postdated (start_time is set)'
    record = record or {}
    if bool(record.get('addresses')) != options.address_restricted:
        return 'the TGT is %saddress-restricted' % ('not ' if options.address_restricted else '')
    if options.canonicalize is not None and bool(record.get('canonicalize')) != options.canonicalize:
        return 'the TGT was %s with canonicalize' % ('not requested' if options.canonicalize
                                                     else 'requested')
    return None


def _same_client(request, info, record):
    """Whether the cache belongs to the requested client (see the module docstring: Names)."""
    if info['principal'] == request.principal:
        return True
    return bool(record) and request.requested is not None \
        and record.get('name') == request.requested


def plan_present(request, info, record=None):
    """``(action, reason)`` for ``state=present`` given the cache as :func:`read_cache` saw it."""
    if request.force:
        return 'acquire', 'force is set'
    if info.get('unsafe'):
        return 'acquire', 'the cache file is not safe to keep: %s' % UNSAFE[info['unsafe']]
    if info['state'] == 'invalid':
        return 'acquire', 'the cache file is not a readable credential cache'
    if not info['exists']:
        return 'acquire', 'no credential cache'
    if request.principal and not _same_client(request, info, record):
        return 'acquire', 'the cache belongs to %s' % info['principal']
    tgt = info['tgt']
    if not tgt:
        return 'acquire', 'the cache holds no TGT'
    if request.options.anonymous and request.requested \
            and tgt['server'] != 'krbtgt/%s@%s' % ((realm_of(request.requested),) * 2):
        return 'acquire', 'the anonymous TGT is for another realm'
    renewable = 'renewable' in tgt['flags']
    if request.renewable and not renewable:
        return 'acquire', 'the TGT is not renewable'
    mismatch = option_mismatch(request, tgt, record)
    if mismatch:
        return 'acquire', mismatch
    remaining = tgt['end_epoch'] - now()
    if 'invalid' in tgt['flags'] and 'postdated' in tgt['flags'] and remaining > 0:
        waiting = tgt['start_epoch'] - now()
        if waiting > 0 and (request.options.start_time or request.validate):
            return 'none', 'the postdated TGT becomes valid in %ds' % waiting
        if waiting <= 0 and request.validate:
            return 'validate', 'the postdated TGT has reached its start time'
        if waiting <= 0 and request.options.start_time:
            return 'none', 'the postdated TGT is due for validation (validate is not set)'
        return 'acquire', 'the TGT is postdated and not valid yet'

    if remaining >= request.min_lifetime and info['tgt_valid']:
        return 'none', 'the TGT is valid for %ds more (min_lifetime %ds)' % (
            remaining, request.min_lifetime)
    if (renewable and remaining > 0 and tgt['renew_till_epoch']
            and tgt['renew_till_epoch'] - now() >= request.min_lifetime):
        return 'renew', 'the TGT has %ds left, less than min_lifetime' % max(remaining, 0)
    if remaining <= 0:
        return 'acquire', 'the TGT has expired'
    return 'acquire', 'the TGT has %ds left and cannot be renewed long enough' % remaining


def present(request, check_mode=False):
    """Make sure ``request.ccache`` holds a TGT for ``request.principal``; return the result."""
    target = caches.resolve_name(request.ccache)
    safe = _SafeCopy(target, request.mode, request.owner, request.group)
    try:
        return _present(request, target, safe, check_mode)
    finally:
        safe.close()


def _names(request, ctx):
    """Set ``request.requested`` (the name sent to the KDC) and ``request.principal`` (the
    client expected in the cache) from the ``principal`` option."""
    principal = request.principal
    options = request.options
    if options.anonymous:
        realm = realm_of(principal) if principal else None
        if principal and principal.rsplit('@', 1)[0] not in ('', acquiring.ANONYMOUS):
            raise InvalidInputError('anonymous: principal must be unset, @REALM or %s@REALM, '
                                    'not %s' % (acquiring.ANONYMOUS, principal))
        realm = realm or caches.canonical_principal('x', ctx).rsplit('@', 1)[1]
        request.requested = '%s@%s' % (acquiring.ANONYMOUS, realm)
        request.principal = '%s@%s' % (acquiring.ANONYMOUS, acquiring.ANONYMOUS_REALM)
    elif principal and options.enterprise:
        krb5 = acquiring.deps.krb5
        try:
            name = krb5.parse_name_flags(ctx, principal.encode('utf-8'),
                                         acquiring.parse_flags(options))
            request.requested = request.principal = krb5.unparse_name_flags(ctx, name).decode(
                'utf-8', 'replace')
        except krb5.Krb5Error as exc:
            from .errors import from_krb5  # pylint: disable=import-outside-toplevel
            raise from_krb5(exc, 'parsing enterprise principal %r' % principal)
    elif principal:
        request.requested = request.principal = caches.canonical_principal(principal, ctx)


def _record(safe, info, ctx):
    """The request entry of the cache that was read (``None`` when it has none)."""
    if not info['exists']:
        return None
    name = safe.source.name if safe.source is not None else info['ccache']
    try:
        ctx, cache = caches.open_cache(caches.CcacheName(name), ctx=ctx)
    except Exception:  # pylint: disable=broad-except
        return None
    return acquiring.read_record(ctx, cache)


def _present(request, target, safe, check_mode):
    if request.everything:
        raise InvalidInputError('all is for state=absent (every cache of a collection)')
    if request.switch and target.collection is None:
        raise InvalidInputError('switch needs a cache collection (DIR:, KEYRING:, KCM:), not %s'
                                % target.name)
    ctx = caches.context()
    _names(request, ctx)
    principal = request.principal
    info = safe.read(principal, ctx)
    if not principal:
        if not info['exists'] or not info['principal']:
            reason = (' (%s)' % info['read_error']) if info.get('unsafe') else ''
            raise InvalidInputError('principal is required: %s holds no ticket to keep%s'
                                    % (target.name, reason))
        principal = request.principal = info['principal']
    action, reason = plan_present(request, info, _record(safe, info, ctx))
    if action == 'acquire' and request.password is None and request.keytab is None \
            and not request.options.pkinit_identity and not request.options.anonymous:
        raise InvalidInputError('%s needs a new ticket for %s (%s), but neither password nor '
                                'keytab is given' % (target.name, principal, reason))
    before = _summary(info)
    path = info.get('path') if info['exists'] else None
    attributes_changed = False
    if action == 'none' and path:
        attributes_changed = _attributes_differ(path, safe, request)
        if attributes_changed:
            action, reason = 'attributes', 'the mode, owner or group of the cache file differ'
    result = {'changed': action != 'none', 'action': action, 'reason': reason,
              'principal': principal, 'ccache': info['ccache'] if info['exists'] else target.name}
    warnings = []
    if check_mode or action == 'none':
        after = dict(before) if action in ('none', 'attributes') else {
            'exists': True, 'ccache': result['ccache'], 'principal': principal,
            'start': None, 'end': None, 'renew_till': None, 'renewable': request.renewable,
            'tgt_valid': True}
        final = info if action in ('none', 'attributes') else None
    else:
        if action == 'attributes':
            _set_attributes(path, safe, request)
            final = safe.read(principal, ctx)
        elif action in ('renew', 'validate'):
            try:
                final = acquiring.renew(caches.CcacheName(info['ccache']), principal,
                                        mode=request.mode, owner=request.owner,
                                        group=request.group, source=safe.source,
                                        prepare=request.prepare, validate=action == 'validate')
            except Krb5Error as exc:
                if action != 'validate' or exc.error_name != NOT_YET_VALID:
                    raise
                # Due by this host's clock, not yet by the KDC's (behind, within the allowed
                # skew): nothing was written; a later run validates it.
                final = info
                action = 'none'
                result.update(changed=False, action=action, reason=(
                    'the KDC does not take the postdated TGT as valid yet (%s: its clock is '
                    'behind this host\'s); a later run validates it' % NOT_YET_VALID))
                # a refusal, not "nothing to do": said where a run's output shows it
                warnings.append('the KDC refused to validate the postdated TGT of %s: %s (its '
                                'clock is behind this host\'s)' % (principal, exc))
        else:
            # An enterprise name goes to the library as the user wrote it (parsed there).
            final = acquiring.acquire(target, request.enterprise_name or request.requested
                                      or principal,
                                      password=request.password, options=request.options,
                                      keytab=request.keytab, lifetime=request.lifetime,
                                      renew_lifetime=request.renew_lifetime_request,
                                      mode=request.mode, owner=request.owner,
                                      group=request.group, prepare=request.prepare)
        after = _summary(final)
        result['ccache'] = final['ccache']
        result['principal'] = final.get('principal') or principal
        tgt = final.get('tgt')
        left = tgt['end_epoch'] - now() if tgt else None
        if action != 'none' and left is not None and left < request.min_lifetime:
            warnings.append('the KDC issued a ticket valid for %ds only, less than min_lifetime '
                            '(%ds): every run will get a new one' % (left, request.min_lifetime))
    result.update(_ticket_fields(final))
    result['diff'] = {'before': before, 'after': after}
    result['warnings'] = warnings
    if request.switch:
        _switch(result, request, check_mode)
    return result


def _switch(result, request, check_mode):
    """``switch``: make the principal's cache (``result['ccache']``) the primary cache of its
    collection, like kinit does; a change only when another cache was primary."""
    member = caches.CcacheName(result['ccache'])
    if member.collection is None:
        raise InvalidInputError('switch needs a cache collection (DIR:, KEYRING:, KCM:), not %s'
                                % member.name)
    primary = caches.primary_name(member)
    result['diff']['before']['primary'] = primary
    result['diff']['after']['primary'] = result['ccache'] if member.is_member else primary
    if primary == result['ccache'] and member.is_member:
        return
    if not member.is_member:  # check mode: the new cache has no name yet
        result['diff']['after']['primary'] = None
    if result['action'] == 'none':
        reason = '%s is not the primary cache of %s' % (member.name, member.collection)
        result.update(changed=True, action='switch', reason=reason)
    if check_mode or not member.is_member:
        return
    if member.type == 'DIR':
        acquiring.collection_directory(member.directory, request.owner, request.group)
        path = os.path.join(member.directory, 'primary')
        write_atomic(path, (os.path.basename(member.path) + '\n').encode(), mode=0o644,
                     owner=request.owner, group=request.group)
    else:
        caches.switch_primary(member)
    now_primary = caches.primary_name(member)
    if now_primary != member.name:
        from .errors import Krb5Error  # pylint: disable=import-outside-toplevel
        raise Krb5Error('%s is still not the primary cache of %s (it is %s)'
                        % (member.name, member.collection, now_primary), error_name=None)


def _ticket_fields(info):
    tgt = (info or {}).get('tgt') or {}
    return {'start': tgt.get('start'), 'end': tgt.get('end'), 'renew_till': tgt.get('renew_till'),
            'renewable': 'renewable' in tgt.get('flags', []) if tgt else None,
            'expires_in': max(tgt['end_epoch'] - now(), 0) if tgt else None,
            'flags': tgt.get('flags') if tgt else None}


def _attributes_differ(path, safe, request):
    """Whether a cache file that is kept needs its mode or group fixed (or to be rewritten)."""
    state = safe.state
    if state is None:  # a cache of a collection, found by the library
        state = inspect_file(path, mode=request.mode, owner=request.owner, group=request.group,
                             read=False)
        if state['kind'] != 'file':
            return False
    uid, gid = intended_ids(request.owner, request.group)
    if state['problem'] or state['mode'] != '%04o' % request.mode \
            or state['uid'] != uid or state['gid'] != gid:
        return True
    return bool(request.replace and request.replace(path))


def _set_attributes(path, safe, request):
    """Fix the mode and group through a descriptor (:func:`..common.files.ensure_file` with the
    content that was checked), or write a fresh file when the one there is not safe."""
    content = safe.state['content'] if safe.state else None
    if content is None:
        state = inspect_file(path, mode=request.mode, owner=request.owner, group=request.group)
        content = state['content']
    if content is None:
        from .errors import Krb5Error  # pylint: disable=import-outside-toplevel
        raise Krb5Error('cannot read credential cache %s to fix its mode' % path,
                        error_name='KRB5_CC_IO')
    ensure_file(path, content, mode=request.mode, owner=request.owner, group=request.group,
                secret=True, prepare=request.prepare,
                replace=bool(request.replace and request.replace(path)))


def absent(request, check_mode=False):
    """Destroy the cache (or the principal's cache of a collection); return the result."""
    target = caches.resolve_name(request.ccache)
    if request.switch:
        raise InvalidInputError('switch is for state=present')
    principal = request.principal
    if principal:
        principal = caches.canonical_principal(principal)
    whole = request.everything or (target.is_collection and not principal)
    info = caches.read_cache(target, principal) if not whole else None
    destroyed = caches.destroy(target, None if request.everything else principal,
                               check_mode=check_mode, everything=request.everything)
    before = _summary(info) if info else {'exists': bool(destroyed), 'ccaches': destroyed}
    result = {'changed': bool(destroyed), 'action': 'destroy' if destroyed else 'none',
              'reason': 'state is absent', 'principal': principal,
              'ccache': destroyed[0] if len(destroyed) == 1 else target.name,
              'destroyed': destroyed, 'warnings': [],
              'diff': {'before': before, 'after': {'exists': False}}}
    result.update(_ticket_fields(None))
    return result
