# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state logic of ``krb5_ticket``: read the cache, decide, then (unless check mode) act.

Deciding reads only the local cache (pykrb5), so a run that changes nothing contacts no KDC.
The decision for ``state=present``, in order:

1. ``force`` -> ``acquire``;
2. no cache, a cache for another principal, an unreadable file, or no TGT -> ``acquire``;
3. ``renewable`` wanted but the TGT is not renewable -> ``acquire``;
4. the TGT has less than ``min_lifetime`` left: ``renew`` when it is renewable, still valid
   and its renew-till time lies at least ``min_lifetime`` ahead, else ``acquire``;
5. else nothing, apart from the mode, owner and group of a file cache (``attributes``).

``acquire`` needs a password or a keytab; without either the run fails with a clear message.
"""

import os

from ..common.errors import InvalidInputError
from ..common.files import file_attributes
from . import acquire as acquiring
from . import ccache as caches
from .util import now


def _summary(info):
    """The part of a cache's state shown in diffs and results."""
    if not info or not info.get('exists'):
        return {'exists': False}
    tgt = info.get('tgt') or {}
    return {'exists': True, 'ccache': info['ccache'], 'principal': info['principal'],
            'start': tgt.get('start'), 'end': tgt.get('end'), 'renew_till': tgt.get('renew_till'),
            'renewable': 'renewable' in tgt.get('flags', []), 'tgt_valid': info.get('tgt_valid', False)}


def _wanted_attributes(path, mode, owner, group):
    """``(changed, before, after)`` of a file cache's mode/owner/group."""
    before = file_attributes(path) if path else None
    if not before:
        return False, None, None
    from ..common.files import _gid, _uid  # pylint: disable=import-outside-toplevel
    uid, gid = _uid(owner), _gid(group)
    uid = before['uid'] if uid == -1 else uid
    gid = before['gid'] if gid == -1 else gid
    changed = before['mode'] != '%04o' % mode or before['uid'] != uid or before['gid'] != gid
    return changed, before, (uid, gid)


class TicketRequest(object):
    """What the user asked for (already validated option values)."""

    def __init__(self, principal=None, ccache=None, password=None, keytab=None, lifetime=None,
                 renewable=False, renew_lifetime=None, min_lifetime=3600, force=False,
                 mode=0o600, owner=None, group=None):
        self.principal = principal
        self.ccache = ccache
        self.password = password
        self.keytab = keytab
        self.lifetime = lifetime
        self.renewable = renewable or bool(renew_lifetime)
        self.renew_lifetime = renew_lifetime
        self.min_lifetime = min_lifetime
        self.force = force
        self.mode = mode
        self.owner = owner
        self.group = group
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


def plan_present(request, info):
    """``(action, reason)`` for ``state=present`` given the cache as :func:`read_cache` saw it."""
    if request.force:
        return 'acquire', 'force is set'
    if info['state'] == 'invalid':
        return 'acquire', 'the cache file is not a readable credential cache'
    if not info['exists']:
        return 'acquire', 'no credential cache'
    if request.principal and info['principal'] != request.principal:
        return 'acquire', 'the cache belongs to %s' % info['principal']
    tgt = info['tgt']
    if not tgt:
        return 'acquire', 'the cache holds no TGT'
    renewable = 'renewable' in tgt['flags']
    if request.renewable and not renewable:
        return 'acquire', 'the TGT is not renewable'
    remaining = tgt['end_epoch'] - now()
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
    principal = request.principal
    ctx = caches.context()
    if principal:
        principal = request.principal = caches.canonical_principal(principal, ctx)
    info = caches.read_cache(target, principal, ctx)
    if not principal:
        if not info['exists'] or not info['principal']:
            raise InvalidInputError('principal is required: %s holds no ticket to keep' % target.name)
        principal = request.principal = info['principal']
    action, reason = plan_present(request, info)
    if action == 'acquire' and request.password is None and request.keytab is None:
        raise InvalidInputError('%s needs a new ticket for %s (%s), but neither password nor '
                                'keytab is given' % (target.name, principal, reason))
    before = _summary(info)
    path = info.get('path') if info['exists'] else None
    attributes_changed = False
    if action == 'none' and path:
        attributes_changed = _wanted_attributes(path, request.mode, request.owner, request.group)[0]
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
            _set_attributes(path, request)
            final = caches.read_cache(caches.CcacheName(info['ccache']), principal, ctx)
        elif action == 'renew':
            final = acquiring.renew(caches.CcacheName(info['ccache']), principal, mode=request.mode,
                                    owner=request.owner, group=request.group)
        else:
            final = acquiring.acquire(target, principal, password=request.password,
                                      keytab=request.keytab, lifetime=request.lifetime,
                                      renew_lifetime=request.renew_lifetime_request,
                                      mode=request.mode, owner=request.owner,
                                      group=request.group)
        after = _summary(final)
        result['ccache'] = final['ccache']
        tgt = final.get('tgt')
        left = tgt['end_epoch'] - now() if tgt else None
        if left is not None and left < request.min_lifetime:
            warnings.append('the KDC issued a ticket valid for %ds only, less than min_lifetime '
                            '(%ds): every run will get a new one' % (left, request.min_lifetime))
    result.update(_ticket_fields(final))
    result['diff'] = {'before': before, 'after': after}
    result['warnings'] = warnings
    return result


def _ticket_fields(info):
    tgt = (info or {}).get('tgt') or {}
    return {'start': tgt.get('start'), 'end': tgt.get('end'), 'renew_till': tgt.get('renew_till'),
            'renewable': 'renewable' in tgt.get('flags', []) if tgt else None,
            'expires_in': max(tgt['end_epoch'] - now(), 0) if tgt else None,
            'flags': tgt.get('flags') if tgt else None}


def _set_attributes(path, request):
    import errno  # pylint: disable=import-outside-toplevel
    from ..common.files import FileWriteError  # pylint: disable=import-outside-toplevel
    changed, before, ids = _wanted_attributes(path, request.mode, request.owner, request.group)
    if not changed:
        return
    try:
        os.chmod(path, request.mode)
        os.chown(path, ids[0], ids[1])
    except OSError as exc:
        raise FileWriteError('cannot set mode or owner of %s: %s' % (path, exc.strerror or exc),
                             error_name=errno.errorcode.get(exc.errno))


def absent(request, check_mode=False):
    """Destroy the cache (or the principal's cache of a collection); return the result."""
    target = caches.resolve_name(request.ccache)
    principal = request.principal
    if principal:
        principal = caches.canonical_principal(principal)
    info = caches.read_cache(target, principal) if not (target.is_collection and not principal) else None
    destroyed = caches.destroy(target, principal, check_mode=check_mode)
    before = _summary(info) if info else {'exists': bool(destroyed), 'ccaches': destroyed}
    result = {'changed': bool(destroyed), 'action': 'destroy' if destroyed else 'none',
              'reason': 'state is absent', 'principal': principal,
              'ccache': destroyed[0] if len(destroyed) == 1 else target.name,
              'destroyed': destroyed, 'warnings': [],
              'diff': {'before': before, 'after': {'exists': False}}}
    result.update(_ticket_fields(None))
    return result
