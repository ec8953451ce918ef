# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""krb5_keytab's desired state: a keytab holding working keys for a list of principals.

Compare, then write: the destination keytab is read once through a descriptor opened without
following links (:func:`..common.files.inspect_file`); a file that is a link, not a regular file,
of another owner or with another name (hard link) is not trusted - its entries are not kept and
it is replaced by a new file. For each principal the KDC's current kvno and enctypes come from
``kadmin getprinc``; an entry that is missing, of an older kvno or (with ``verify``) rejected in
a GSSAPI handshake is fetched with ``ktadd`` (``-norandkey`` unless told otherwise). A rotation
(``rotate`` or a key older than ``max_key_age``) is ``ktadd`` with new random keys; the
principal then keeps its ``keep_old_kvnos`` previous generations and loses older ones. The new
keytab is built in memory (:mod:`.keytabfile`, untouched entries byte for byte) and written with
:func:`..common.files.ensure_file` (temporary file, rename, mode and owner). Check mode stops
before ``ktadd`` and before the write and predicts the same entries. Results and diffs name
principals, kvnos and enctypes, never keys.
"""

import os
import shutil
import tempfile
import time

from . import deps, keytab as keytab_verify
from .ccache import context
from .errors import KeytabError, from_krb5
from .keytabfile import parse, serialize
from .util import enctype_name
from ..common.errors import InvalidInputError
from ..common.files import check_destination, ensure_file, inspect_file

# A file with one of these problems is not trusted: its entries are dropped, the file replaced.
UNTRUSTED = ('symlink', 'other', 'not_owner', 'hard_link')


def full_name(principal, realm=None):
    """``principal`` with its realm: ``realm``, else the default realm of krb5.conf."""
    if '@' in principal.replace('\\@', ''):
        return principal
    if realm:
        return '%s@%s' % (principal, realm)
    if deps.krb5 is None:
        raise InvalidInputError('principal %s has no realm; give it as name@REALM or set realm'
                                % principal)
    ctx = context()
    try:
        parsed = deps.krb5.parse_name_flags(ctx, principal.encode('utf-8'))
        return deps.krb5.unparse_name_flags(ctx, parsed).decode('utf-8')
    except deps.krb5.Krb5Error as exc:
        raise from_krb5(exc, 'finding the realm of %s' % principal)


def _kv(entries):
    return [{'kvno': e.kvno, 'enctype': _enctype(e)} for e in entries]


def _kvnos(entries):
    return sorted(set(e.kvno for e in entries))


class _Pending(object):
    """A predicted entry (check mode): what ktadd would write, without a key."""

    def __init__(self, principal, kvno, enctype):
        self.principal, self.kvno, self.enctype, self.timestamp = principal, kvno, enctype, None
        self.raw = None

    def describe(self):
        return {'principal': self.principal, 'kvno': self.kvno, 'enctype': self.enctype,
                'enctype_number': None, 'timestamp': None}

    def line(self):
        return '%s kvno %d %s' % (self.principal, self.kvno, self.enctype)


def _enctype(entry):
    return entry.enctype if isinstance(entry, _Pending) else enctype_name(entry.enctype)


def _current(path, files):
    """``(facts, entries, data)`` of the destination; untrusted files count as empty."""
    facts = inspect_file(path, mode=files.mode, owner=files.owner, group=files.group,
                         secret=True, read=True)
    if facts['kind'] != 'file' or facts['problem'] in UNTRUSTED:
        return facts, [], None
    if facts['content'] is None:
        raise KeytabError('keytab %s is too large to be a keytab' % path,
                          error_name='KRB5_KT_FORMAT')
    return facts, parse(facts['content'], 'keytab %s' % path), facts['content']


def _handshake(data, principals, initiator):
    """GSSAPI verification of keytab ``data`` (in a private copy) for ``principals``."""
    workdir = tempfile.mkdtemp(prefix='hostsec-keytab-')
    try:
        copy = os.path.join(workdir, 'verify.keytab')
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        return keytab_verify.verify('FILE:' + copy, principals, initiator)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _plan(principal, info, have, options, rejected):
    """``(action, reason)`` for one principal: ``none``, ``fetch`` or ``rotate``."""
    age = None
    changed_at = info['last_password_change'] or info['last_modified']
    if changed_at:
        age = max(0, int(time.time()) - changed_at)
    info['key_age'] = age
    if options['rotate']:
        return 'rotate', 'rotate is set'
    if options['max_key_age'] is not None and age is not None and age > options['max_key_age']:
        return 'rotate', 'the key is %d seconds old, more than max_key_age (%d)' % (
            age, options['max_key_age'])
    wanted = info['wanted']
    kvnos = set(kvno for kvno, _e in have)
    if not have:
        return 'fetch', 'the keytab has no entry for the principal'
    if info['kvno'] not in kvnos:
        return 'fetch', 'the keytab has kvno %s, the KDC kvno %d' % (
            ', '.join(str(k) for k in sorted(kvnos)), info['kvno'])
    missing = [e for e in wanted if (info['kvno'], e) not in have]
    if missing:
        return 'fetch', 'the keytab lacks kvno %d of %s' % (info['kvno'], ', '.join(missing))
    if principal in rejected:
        return 'fetch', 'the KDC does not accept the key of the keytab: %s' % rejected[principal]
    return 'none', 'the keytab holds the current kvno %d' % info['kvno']


def ensure_present(path, principals, kadmin, options, files, check_mode, initiator):
    """Make keytab ``path`` hold working keys of ``principals``; returns the result."""
    check_destination(path, files.owner, files.group)
    facts, entries, original = _current(path, files)
    enctypes = options['enctypes']
    infos = {}
    for name in principals:
        info = kadmin.getprinc(name)
        wanted = [e for e in info['enctypes'] if not enctypes or e in enctypes]
        info['wanted'] = wanted
        infos[info['principal']] = info
    # With verify, a principal whose current kvno is there must also pass the handshake.
    rejected, pre = {}, {}
    if options['verify'] and original:
        candidates = [p for p, info in infos.items()
                      if any(e.principal == p and e.kvno == info['kvno'] for e in entries)]
        if candidates:
            for item in _handshake(original, candidates, initiator):
                pre[item['principal']] = item
                if not item['success']:
                    rejected[item['principal']] = '%s: %s' % (item['error_name'], item['message'])
    report = []
    new = list(entries)
    try:
        new = _apply(infos, new, report, kadmin, options, check_mode, rejected)
    except Exception as exc:
        # Keys the KDC already changed must not be lost: write what was fetched, then fail.
        partial = getattr(exc, 'partial', None)
        if not check_mode and partial is not None and partial != entries:
            ensure_file(path, serialize(partial), mode=files.mode, owner=files.owner,
                        group=files.group, secret=True, prepare=files.prepare)
            if isinstance(getattr(exc, 'details', None), dict):
                exc.details['keytab_written'] = True
        raise
    entries_changed = any(i['added'] or i['removed'] for i in report)
    return _finish(path, facts, entries, new, original, entries_changed, report, files,
                   check_mode, options, initiator, list(infos), pre)


def _apply(infos, new, report, kadmin, options, check_mode, rejected):
    """Fetch or rotate what ``infos`` need into the entry list ``new``; returns the new list.

    An error carries the entries fetched until then as ``partial``.
    """
    enctypes = options['enctypes']
    for principal, info in infos.items():
        try:
            new = _apply_one(principal, info, new, report, kadmin, options, check_mode,
                             rejected, enctypes)
        except Exception as exc:
            exc.partial = new
            raise
    return new


def _apply_one(principal, info, new, report, kadmin, options, check_mode, rejected, enctypes):
    mine = [e for e in new if e.principal == principal]
    have = set((e.kvno, _enctype(e)) for e in mine)
    action, reason = _plan(principal, info, have, options, rejected)
    item = {'principal': principal, 'action': action, 'reason': reason,
            'kdc_kvno': info['kvno'], 'key_age': info['key_age'],
            'randomized': action == 'rotate' or (action == 'fetch' and not options['norandkey']),
            'added': [], 'removed': []}
    if action != 'none':
        randomize = item['randomized']
        if not randomize and not info['wanted']:
            raise KeytabError('the KDC has no key of %s for %s (it has %s)' % (
                ', '.join(options['enctypes'] or []), principal, ', '.join(info['enctypes'])),
                error_name='KRB5_BAD_ENCTYPE')
        if check_mode:
            kvno = info['kvno'] + 1 if randomize else info['kvno']
            types = (enctypes or info['enctypes']) if randomize else info['wanted']
            fetched = [_Pending(principal, kvno, e) for e in types]
        else:
            fetched = kadmin.ktadd(principal, norandkey=not randomize,
                                   enctypes=enctypes if randomize else None)
            fetched = [e for e in fetched if e.principal == principal]
            if not fetched:
                raise KeytabError('kadmin ktadd wrote no key of %s' % principal,
                                  error_name='KRB5_KT_NOTFOUND')
            top = max(e.kvno for e in fetched)
            fetched = [e for e in fetched if e.kvno == top and
                       (randomize or not enctypes or _enctype(e) in enctypes)]
            if randomize:
                info['kvno'] = top
        replace = set((e.kvno, _enctype(e)) for e in fetched)
        if principal not in rejected:
            # Only what is missing is added; entries that are there stay byte for byte.
            fetched = [e for e in fetched if (e.kvno, _enctype(e)) not in have]
            replace = set()
        dropped = [e for e in new if e.principal == principal and
                   (e.kvno, _enctype(e)) in replace]
        new = [e for e in new if e not in dropped] + fetched
        item['added'] = _kv(fetched)
        item['removed'] = _kv(dropped)
        if action == 'rotate':
            keep = sorted(set(e.kvno for e in new if e.principal == principal),
                          reverse=True)[:1 + options['keep_old_kvnos']]
            old = [e for e in new if e.principal == principal and e.kvno not in keep]
            new = [e for e in new if e not in old]
            item['removed'] += _kv(old)
    item['added_kvnos'] = sorted(set(a['kvno'] for a in item['added']))
    item['removed_kvnos'] = sorted(set(r['kvno'] for r in item['removed']))
    item['kdc_kvno'] = info['kvno']
    report.append(item)
    return new


def ensure_absent(path, principals, realm, files, check_mode):
    """Remove the entries of ``principals`` from keytab ``path`` (the file stays)."""
    names = [full_name(p, realm) for p in principals]
    facts, entries, original = _current(path, files)
    if facts['kind'] == 'absent':
        report = [{'principal': n, 'action': 'none', 'reason': 'the keytab does not exist',
                   'added': [], 'removed': [], 'added_kvnos': [], 'removed_kvnos': []}
                  for n in names]
        return {'changed': False, 'keytab': path, 'entries': [], 'principals': report,
                'rotated': False, 'verification': [], 'file': None,
                'diff': {'before': '', 'after': ''}}
    check_destination(path, files.owner, files.group)
    report = []
    new = list(entries)
    for name in names:
        gone = [e for e in new if e.principal == name]
        new = [e for e in new if e.principal != name]
        report.append({'principal': name, 'action': 'remove' if gone else 'none',
                       'reason': 'removed' if gone else 'the keytab has no entry for it',
                       'added': [], 'removed': _kv(gone), 'added_kvnos': [],
                       'removed_kvnos': _kvnos(gone)})
    entries_changed = len(new) != len(entries)
    return _finish(path, facts, entries, new, original, entries_changed, report, files,
                   check_mode, None, None, [], {})


def _finish(path, facts, before, after, original, entries_changed, report, files, check_mode,
            options, initiator, principals, pre):
    if entries_changed or original is None:
        data = serialize([e for e in after if e.raw is not None])
    else:
        data = original
    if check_mode and any(e.raw is None for e in after):
        data = data + b'\0'  # predicted entries: the file will differ
    outcome = ensure_file(path, data, mode=files.mode, owner=files.owner, group=files.group,
                          check_mode=check_mode, secret=True, prepare=files.prepare,
                          replace=bool(files.replace and facts['kind'] == 'file'
                                       and files.replace(path)))
    verification = [pre[p] for p in principals if p in pre]
    if options and options['verify'] and not check_mode and (entries_changed or not verification
                                                             or len(verification) < len(principals)):
        verification = _handshake(data, principals, initiator)
    result = {
        'changed': bool(outcome['changed']),
        'keytab': path,
        'entries': [e.describe() for e in after],
        'principals': report,
        'rotated': any(i['action'] == 'rotate' for i in report),
        'verification': verification,
        'file': outcome,
        'diff': {'before_header': path, 'after_header': path,
                 'before': _text(before if facts['kind'] == 'file' and original is not None
                                 else [], outcome['before']),
                 'after': _text(after, outcome['after'])},
    }
    if facts['problem'] in UNTRUSTED:
        result['replaced_untrusted'] = facts['problem']
    return result


def _text(entries, attrs):
    lines = []
    if attrs and attrs.get('exists'):
        lines.append('# %s' % ', '.join('%s=%s' % (k, attrs[k])
                                        for k in ('mode', 'owner', 'group') if k in attrs))
    lines += [e.line() for e in entries]
    return '\n'.join(lines) + ('\n' if lines else '')
