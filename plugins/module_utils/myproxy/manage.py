# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the idempotent modules, kept out of the modules so they can be unit tested.

:func:`inspect_proxy_file` says whether a local credential file is still good enough
(myproxy_logon); :func:`plan_upload` says whether a stored credential must be uploaded again
(myproxy_credential). Neither contacts the server. :func:`describe_credential` is what the
modules return about a stored credential; :func:`stored_credential`,
:func:`probe_stored`, :func:`destroy_unlisted` and :func:`change_passphrase` are the server
conversations of myproxy_credential.

INFO does not show what a credential's passphrase is, nor its ``max_proxy_lifetime``, nor
credentials of other owners. :func:`probe_stored` finds the first two out by retrieving a
proxy (read-only on the server; the proxy and its key are discarded): the passphrase works
or not, and the server issues at most the stored ``max_proxy_lifetime``.
:func:`destroy_unlisted` tells "not there" from "there, but not ours".
"""

import datetime

from ..common.files import inspect_file, intended_ids, remove_file
from .credentials import Credential
from .errors import (CredentialFileError, MyProxyAuthenticationError,
                     MyProxyAuthorizationError, MyProxyCredentialNotFoundError, MyProxyError,
                     MyProxyServerError)
from . import x509 as mx509


# What is wrong with a file that is there, as common.files.inspect_file names it.
FILE_REASONS = {'symlink': 'symlink', 'other': 'not_a_file', 'not_owner': 'not_owner',
                'hard_link': 'hard_link', 'exposed': 'exposed', 'foreign_group': 'exposed'}


def inspect_proxy_file(path, min_lifetime, identity=None, now=None, ca_dir=None, mode=0o600,
                       owner=None, group=None):
    """Look at the credential in ``path`` without contacting anyone, nor following a link.

    Returns ``{'usable': bool, 'reason': str, 'credential': facts or None, 'error': str,
    'file': inspect_file() facts, 'content': the bytes checked (never return them)}``;
    ``reason`` is ``valid``, ``missing``,
    ``symlink``, ``not_a_file``, ``not_owner``, ``hard_link``, ``exposed`` (the file is not
    one the owner alone may read: it is replaced, never used), ``corrupt``, ``key_mismatch``,
    ``untrusted`` (the chain does not verify against ``ca_dir``), ``expired``, ``expiring``
    or ``identity_mismatch``. With ``ca_dir=None`` the chain is not verified against a CA
    (the modules always give one).
    """
    now = now or mx509.now()
    state = inspect_file(path, mode=mode, owner=owner, group=group, secret=True)
    content = state.pop('content')
    result = {'usable': False, 'credential': None, 'error': None, 'file': state,
              'content': content}
    if state['kind'] == 'absent':
        return dict(result, reason='missing')
    if state['problem']:
        return dict(result, reason=FILE_REASONS[state['problem']],
                    error='%s is not a file of its own that only %s can read'
                    % (path, owner if owner is not None else 'the module user'))
    if content is None:
        return dict(result, reason='corrupt', error='%s is too large' % path)
    try:
        credential = Credential.from_pem(content, source=path)
    except CredentialFileError as exc:
        reason = {'KEY_MISMATCH': 'key_mismatch'}.get(exc.error_name, 'corrupt')
        return dict(result, reason=reason, error=str(exc))
    facts = credential.describe(now)
    result['credential'] = facts
    if not _chain_signatures_ok(credential):
        return dict(result, reason='corrupt',
                    error='the certificates in %s do not sign each other' % path)
    if ca_dir is not None:
        problem = mx509.chain_problem(credential.cert, credential.chain, ca_dir, now)
        if problem:
            return dict(result, reason='untrusted', error=problem)
    if identity and not mx509.dn_equal(facts['identity'], identity):
        return dict(result, reason='identity_mismatch')
    if facts['remaining'] <= 0:
        return dict(result, reason='expired')
    if facts['remaining'] < min_lifetime:
        return dict(result, reason='expiring')
    return dict(result, usable=True, reason='valid')


def _chain_signatures_ok(credential):
    """Each certificate is signed by the next (where cryptography can check it)."""
    certs = [credential.cert] + credential.chain
    for child, parent in zip(certs, certs[1:]):
        verify = getattr(child, 'verify_directly_issued_by', None)
        if verify is None:
            return True  # cryptography < 40: no signature check available
        try:
            verify(parent)
        except Exception:  # pylint: disable=broad-except
            # InvalidSignature, or ValueError/TypeError for mismatching names or key types.
            return False
    return True


def remove_proxy(path, check_mode=False, diff=False):
    """``state=absent`` of myproxy_logon: remove the proxy file ``path`` (wiped first, never
    through a link). Needs no server and no crypto library; returns the module's result keys."""
    outcome = remove_file(path, check_mode=check_mode)
    result = {'changed': outcome['changed'], 'path': path,
              'reason': 'removed' if outcome['changed'] else 'absent'}
    if outcome['changed'] and outcome['kind'] != 'file':
        result['reason'] = 'removed_%s' % outcome['kind']
    if diff:
        result['diff'] = {'before': {'path': path, 'exists': outcome['kind'] != 'absent'},
                          'after': {'path': path, 'exists': False}}
    return result


def attributes_differ(state, mode, owner=None, group=None):
    """Whether the kept file :func:`inspect_proxy_file` described (``state['file']``) lacks
    ``mode`` or the group asked for (its owner is right, or it would not have been kept)."""
    facts = state.get('file') or {}
    if facts.get('kind') != 'file':
        return True
    uid, gid = intended_ids(owner, group)
    return facts['mode'] != '%04o' % mode or facts['uid'] != uid or facts['gid'] != gid


POLICY_FIELDS = ('description', 'retrievers', 'renewers', 'key_retrievers', 'trusted_retrievers')


def plan_upload(stored, wanted, method, local_end=None, min_lifetime=0, owner=None, now=None,
                probe=None):
    """Whether a stored credential must be (re)uploaded, and why.

    ``stored`` is the INFO dict of the credential (``None`` when absent), ``wanted`` the
    policy values asked for (``None`` = do not care), ``local_end`` the end (epoch) of the
    certificate a STORE would upload, ``owner`` our identity, ``probe`` what
    :func:`probe_stored` found out (``None``: not probed). Returns ``(upload, reason)``.
    """
    now = now or mx509.now()
    if stored is None:
        return True, 'absent'
    if owner and stored.get('owner') and not mx509.dn_equal(stored['owner'], owner):
        return True, 'owner_differs'
    end = stored.get('end_time') or 0
    if method == 'store':
        if local_end is not None and int(end) != int(local_end):
            return True, 'certificate_differs'
    else:
        if end - now.timestamp() < min_lifetime:
            return True, 'expiring' if end > now.timestamp() else 'expired'
    for field in POLICY_FIELDS:
        value = wanted.get(field)
        if value is not None and (stored.get(field) or '') != value:
            return True, '%s_differs' % field
    if probe is not None:
        if probe.get('passphrase') == 'neither':
            return True, 'passphrase_differs'
        if probe.get('max_proxy_lifetime') in ('longer', 'shorter'):
            return True, 'max_proxy_lifetime_differs'
    return False, 'up_to_date'


# Seconds of tolerance when the lifetime of a probe proxy is compared with max_proxy_lifetime
# (the proxy's end is taken at a second's precision, a little after the request).
LIFETIME_SLACK = 120
PROBE_KEY = ('ec', 256)  # a cheap key for the probe proxy, which is thrown away


def _probe_get(client, username, passphrase, credname, max_proxy_lifetime, stored, now):
    """One probe GET: ``('ok', verdict on max_proxy_lifetime, issued seconds)``,
    ``('bad_passphrase', None, None)`` or ``('unknown', None, error text)``."""
    request = min(max_proxy_lifetime + 3600, 2 ** 31 - 1)
    try:
        proxy, _roots = client.get(username, passphrase, lifetime=request, credname=credname,
                                   key_type=PROBE_KEY[0], key_size=PROBE_KEY[1])
    except MyProxyAuthenticationError:
        return 'bad_passphrase', None, None
    except MyProxyError as exc:
        return 'unknown', None, '%s: %s' % (exc.error_class, exc.error_name)
    issued = int((mx509.not_after(proxy.cert) - now).total_seconds())
    left = (stored.get('end_time') or 0) - now.timestamp()
    if issued > max_proxy_lifetime + LIFETIME_SLACK:
        verdict = 'longer'
    elif issued < max_proxy_lifetime - LIFETIME_SLACK and issued < left - LIFETIME_SLACK:
        # Either the stored maximum is shorter, or the server caps every proxy there.
        verdict = 'shorter'
    else:
        verdict = 'same'
    return 'ok', verdict, issued


def probe_stored(client, username, credname, passphrase, new_passphrase, max_proxy_lifetime,
                 stored, now=None):
    """What INFO does not show of the stored credential, found out with a proxy retrieval.

    Returns ``{'passphrase', 'max_proxy_lifetime', 'issued', 'error'}``: ``passphrase`` is
    ``'new'`` (``new_passphrase`` opens it), ``'current'`` (``passphrase`` does),
    ``'neither'`` or ``None`` (cannot tell: the retrieval failed for another reason, given in
    ``error``, or the credential's trusted retrievers policy lets us in without one);
    ``max_proxy_lifetime`` is ``'same'``, ``'longer'``, ``'shorter'`` or ``None``; ``issued``
    the seconds of the probe proxy. Nothing is written on the server.
    """
    now = now or mx509.now()
    result = {'passphrase': None, 'max_proxy_lifetime': None, 'issued': None, 'error': None}
    candidates = [('new', new_passphrase)] if new_passphrase and new_passphrase != passphrase \
        else []
    candidates.append(('current', passphrase))
    for which, secret in candidates:
        outcome, verdict, detail = _probe_get(client, username, secret, credname,
                                              max_proxy_lifetime, stored, now)
        if outcome == 'bad_passphrase':
            continue
        if outcome == 'unknown':
            result['error'] = detail
            return result
        result.update(max_proxy_lifetime=verdict, issued=detail)
        result['passphrase'] = None if stored.get('trusted_retrievers') else which
        return result
    result['passphrase'] = 'neither'
    return result


def destroy_unlisted(client, username, credname, check_mode=False):
    """For a credential that INFO does not list (INFO lists only what this client owns):
    ``False`` when the server holds no such credential; raises
    :class:`MyProxyAuthorizationError` (``NOT_OWNER``) when it holds one of another owner;
    ``True`` when DESTROY removed one after all.

    In check mode a retrieval with an empty passphrase tells them apart (``NO_CREDENTIALS``
    for a missing credential, a passphrase error for an existing one); nothing is changed.
    """
    if not check_mode:
        try:
            client.destroy(username, credname)
        except MyProxyCredentialNotFoundError:
            return False
        return True
    try:
        client.get(username, '', lifetime=300, credname=credname, key_type=PROBE_KEY[0],
                   key_size=PROBE_KEY[1])
    except MyProxyCredentialNotFoundError:
        return False
    except MyProxyServerError:
        pass
    identity = client.credential.identity if client.credential is not None else 'this client'
    raise MyProxyAuthorizationError(
        'the server holds this credential, but it is not owned by %s, so it cannot be '
        'removed' % identity, error_name='NOT_OWNER')


def describe_credential(cred, now=None, epochs=False):
    """What INFO says of one stored credential, as the modules return it (ISO times,
    ``remaining`` seconds, policies); ``epochs`` adds ``start_epoch``/``end_epoch`` and
    ``lock_message`` (myproxy_info). ``None`` for ``None``."""
    if cred is None:
        return None
    now = now or mx509.now()
    result = {'name': cred.get('name'), 'owner': cred.get('owner')}
    if epochs:
        result.update(start_epoch=cred.get('start_time'), end_epoch=cred.get('end_time'),
                      lock_message=cred.get('lock_message'))
    for key in ('start_time', 'end_time'):
        value = cred.get(key)
        result[key] = (mx509.iso(datetime.datetime.fromtimestamp(value, mx509.UTC))
                       if value is not None else None)
    end = cred.get('end_time')
    result['remaining'] = max(0, int(end - now.timestamp())) if end is not None else None
    for field in POLICY_FIELDS:
        result[field] = cred.get(field)
    return result


def stored_credential(client, username, credname):
    """The server's INFO of the credential ``credname`` (``None``: the default one) of
    ``username``, or ``None`` when it holds no such credential."""
    try:
        creds = client.info(username, credname)
    except MyProxyCredentialNotFoundError:
        return None
    wanted = credname or None
    for cred in creds:
        if (cred.get('name') or None) == wanted:
            return cred
    return None


def change_passphrase(client, username, credname, old, new, check_mode=False, warn=None):
    """Change the passphrase unless the new one is in effect already; True if changed.

    In check mode, a logon with ``new`` tells whether it is in effect (``warn`` is called when
    that cannot be told, and a change is reported).
    """
    if check_mode:
        try:
            client.get(username, new, lifetime=300, credname=credname)
            return False
        except MyProxyAuthenticationError:
            return True
        except MyProxyError as exc:
            if warn is not None:
                warn('cannot tell whether new_passphrase is in effect already (%s: %s); '
                     'reporting a change' % (exc.error_class, exc.error_name))
            return True
    try:
        client.change_passphrase(username, old, new, credname)
        return True
    except MyProxyAuthenticationError:
        pass
    # The current passphrase is not accepted: the change may have happened already.
    try:
        client.change_passphrase(username, new, new, credname)
    except MyProxyAuthenticationError as exc:
        raise MyProxyAuthenticationError(
            'the server accepts neither passphrase nor new_passphrase for this credential',
            error_name=exc.error_name)
    return False
