# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the idempotent modules, kept out of the modules so they can be unit tested.

:func:`inspect_proxy_file` says whether a local credential file is still good enough
(myproxy_logon); :func:`plan_upload` says whether a stored credential must be uploaded again
(myproxy_credential). Neither contacts the server. :func:`describe_credential` is what the
modules return about a stored credential; :func:`stored_credential` and
:func:`change_passphrase` are the server conversations of myproxy_credential.
"""

import datetime

from ..common.files import inspect_file, intended_ids
from .credentials import Credential
from .errors import (CredentialFileError, MyProxyAuthenticationError,
                     MyProxyCredentialNotFoundError, MyProxyError)
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


def attributes_differ(state, mode, owner=None, group=None):
    """Whether the kept file :func:`inspect_proxy_file` described (``state['file']``) lacks
    ``mode`` or the group asked for (its owner is right, or it would not have been kept)."""
    facts = state.get('file') or {}
    if facts.get('kind') != 'file':
        return True
    uid, gid = intended_ids(owner, group)
    return facts['mode'] != '%04o' % mode or facts['uid'] != uid or facts['gid'] != gid


POLICY_FIELDS = ('description', 'retrievers', 'renewers', 'key_retrievers', 'trusted_retrievers')


def plan_upload(stored, wanted, method, local_end=None, min_lifetime=0, owner=None, now=None):
    """Whether a stored credential must be (re)uploaded, and why.

    ``stored`` is the INFO dict of the credential (``None`` when absent), ``wanted`` the
    policy values asked for (``None`` = do not care), ``local_end`` the end (epoch) of the
    certificate a STORE would upload, ``owner`` our identity. Returns ``(upload, reason)``.
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
    return False, 'up_to_date'


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
