# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keytabs: their entries (pykrb5) and a real GSSAPI handshake that proves a keytab works.

:func:`verify` establishes a Kerberos security context in-process: initiator credentials
(from a cache, a password or a client keytab) ask the KDC for a service ticket for the
keytab's service principal (``init_sec_context``), and acceptor credentials made from the
keytab alone accept it (``accept_sec_context``), with mutual authentication. It succeeds only
when the keytab holds the key, kvno and enctype the KDC currently uses for that principal.

Nothing of the user's is changed: an initiator cache is copied into a private temporary cache
first (the service ticket lands there), and the acceptor uses no replay cache on disk.
"""

import os
import shutil
import tempfile

from . import deps
from .ccache import context
from .errors import KeytabError, from_gss, from_krb5, code_name
from .util import enctype_name, iso


def keytab_name(name=None):
    """``FILE:/etc/krb5.keytab`` style name of ``name`` or of the default keytab."""
    if name:
        return name if ':' in name and not name.startswith('/') else 'FILE:' + os.path.abspath(name)
    ctx = context()
    try:
        return deps.krb5.kt_default_name(ctx).decode('utf-8')
    except deps.krb5.Krb5Error as exc:
        raise from_krb5(exc, 'finding the default keytab')


def _path(name):
    kind, _sep, residual = name.partition(':')
    return residual if kind.upper() in ('FILE', 'WRFILE') else None


def list_entries(name):
    """Every entry of the keytab: principal, kvno, enctype and timestamp (no key material)."""
    deps.PYKRB5.require()
    krb5 = deps.krb5
    path = _path(name)
    if path is not None and not os.path.exists(path):
        raise KeytabError('keytab %s does not exist' % name, error_name='KRB5_KT_NOTFOUND',
                          details={'code': -1765328203})
    ctx = context()
    entries = []
    try:
        keytab = krb5.kt_resolve(ctx, name.encode('utf-8'))
        for entry in keytab:
            entries.append({
                'principal': entry.principal.name.decode('utf-8', 'replace'),
                'kvno': int(entry.kvno),
                'enctype': enctype_name(entry.key.enctype),
                'enctype_number': int(entry.key.enctype),
                'timestamp': iso(entry.timestamp),
            })
    except krb5.Krb5Error as exc:
        if code_name(exc.err_code) == 'KRB5_KT_END':
            return entries
        raise from_krb5(exc, 'reading keytab %s' % name)
    return entries


def _step(stage, principal, exc):
    error = from_gss(exc, '%s for %s' % (stage, principal)) if hasattr(exc, 'maj_code') else exc
    details = error.details if hasattr(error, 'details') else {}
    return {'principal': principal, 'success': False, 'stage': stage,
            'error_class': type(error).__name__, 'error_name': getattr(error, 'error_name', None),
            'message': str(error), 'gss_major': details.get('gss_major'),
            'gss_major_name': details.get('gss_major_name'),
            'gss_minor': details.get('gss_minor', details.get('code'))}


def _initiator_creds(workdir, initiator):
    """Initiator credentials from ``initiator`` = {ccache | password | keytab, principal}."""
    gssapi = deps.gssapi
    raw = gssapi.raw
    principal = initiator.get('principal')
    name = gssapi.Name(principal, gssapi.NameType.kerberos_principal) if principal else None
    private = 'FILE:' + os.path.join(workdir, 'initiator')
    if initiator.get('password') is not None:
        if name is None:
            raise KeytabError('verifying with a password needs the initiator principal')
        return raw.acquire_cred_with_password(name, initiator['password'].encode('utf-8'),
                                              usage='initiate').creds
    if initiator.get('keytab'):
        return raw.acquire_cred_from({'ccache': private, 'client_keytab': initiator['keytab']},
                                     name, usage='initiate').creds
    store = {'ccache': initiator['ccache']} if initiator.get('ccache') else {}
    source = raw.acquire_cred_from(store, name, usage='initiate').creds
    raw.store_cred_into({'ccache': private}, source, usage='initiate',
                        mech=gssapi.MechType.kerberos, overwrite=True)
    return raw.acquire_cred_from({'ccache': private}, name, usage='initiate').creds


def verify(name, principals, initiator):
    """Handshake with each principal of ``principals`` as acceptor from keytab ``name``.

    Returns one result per principal: ``success``, and on failure the stage that failed
    (``initiator`` credentials, ``initiate`` = getting the service ticket,
    ``acceptor`` credentials from the keytab, ``accept``), the error class, the Kerberos error
    name, the GSS major status (number and name), the minor status and the message.
    """
    deps.require(deps.GSSAPI)
    gssapi = deps.gssapi
    raw = gssapi.raw
    krb5_mech = gssapi.MechType.kerberos
    results = []
    workdir = tempfile.mkdtemp(prefix='hostsec-krb5-verify-')
    # No replay cache on disk for this in-process acceptor (MIT krb5 1.18 and later).
    previous_rcache = os.environ.get('KRB5RCACHENAME')
    os.environ['KRB5RCACHENAME'] = 'none:'
    try:
        try:
            icreds = _initiator_creds(workdir, initiator)
            initiator_name = _display(raw.inquire_cred(icreds, name=True, lifetime=False,
                                                       usage=False, mechs=False).name)
        except gssapi.exceptions.GSSError as exc:
            return [dict(_step('initiator credentials', p, exc), initiator=initiator.get('principal'))
                    for p in principals]
        for principal in principals:
            target = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
            result = {'principal': principal, 'initiator': initiator_name}
            try:
                acreds = raw.acquire_cred_from({'keytab': name}, target, usage='accept').creds
            except gssapi.exceptions.GSSError as exc:
                result.update(_step('acceptor credentials', principal, exc))
                results.append(result)
                continue
            stage = 'initiate'
            try:
                flags = [gssapi.RequirementFlag.mutual_authentication]
                init = raw.init_sec_context(target, creds=icreds, mech=krb5_mech, flags=flags)
                stage = 'accept'
                accepted = raw.accept_sec_context(init.token, acceptor_creds=acreds)
                stage = 'initiate'
                final = raw.init_sec_context(target, creds=icreds, context=init.context,
                                             mech=krb5_mech, flags=flags, input_token=accepted.token)
                if final.more_steps:
                    raise KeytabError('the handshake did not complete')
                result.update({'success': True, 'stage': 'complete', 'error_class': None,
                               'error_name': None, 'gss_major': 0,
                               'gss_major_name': 'GSS_S_COMPLETE', 'gss_minor': 0,
                               'message': 'security context established: %s authenticated to %s'
                                          % (_display(accepted.initiator_name), principal)})
            except gssapi.exceptions.GSSError as exc:
                result.update(_step(stage, principal, exc))
            results.append(result)
    finally:
        if previous_rcache is None:
            os.environ.pop('KRB5RCACHENAME', None)
        else:
            os.environ['KRB5RCACHENAME'] = previous_rcache
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _display(name):
    raw = deps.gssapi.raw
    try:
        return raw.display_name(name, name_type=False).name.decode('utf-8', 'replace')
    except deps.gssapi.exceptions.GSSError:
        return None
