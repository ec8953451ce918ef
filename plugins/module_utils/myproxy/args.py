# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every myproxy module shares, and the client built from them.

Documented once in ``plugins/doc_fragments/myproxy.py`` (``hostsec.mgmt.myproxy``). Modules
do::

    argument_spec = myproxy_argument_spec()
    argument_spec.update(username=dict(type='str', required=True), ...)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = client_from_module(module, authenticate='required')

The environment variables the Globus tools read are the fallbacks (read on the managed host):
``MYPROXY_SERVER``, ``MYPROXY_SERVER_PORT``, ``MYPROXY_SERVER_DN``, ``X509_CERT_DIR``,
``X509_USER_PROXY``, ``X509_USER_CERT``, ``X509_USER_KEY`` and ``MYPROXY_SOCKET_TIMEOUT``;
the passphrase of the client key falls back to ``HOSTSEC_MYPROXY_CLIENT_KEY_PASSPHRASE``.
"""

from ansible.module_utils.basic import env_fallback

from ..common.duration import parse_duration as _parse_duration
from ..common.env import env_fallback_nonempty_spec
from .client import MyProxyClient
from .credentials import Credential, default_cert_dir, read_credential_file
from .errors import CredentialFileError, MyProxyInputError
from . import transport


def myproxy_argument_spec():
    """A fresh copy of the shared connection options."""
    return dict(
        server=dict(type='str', fallback=(env_fallback, ['MYPROXY_SERVER'])),
        port=dict(type='int', default=transport.DEFAULT_PORT,
                  fallback=(env_fallback, ['MYPROXY_SERVER_PORT'])),
        server_dn=dict(type='str', fallback=(env_fallback, ['MYPROXY_SERVER_DN'])),
        ca_dir=dict(type='path', fallback=(env_fallback, ['X509_CERT_DIR'])),
        client_proxy=dict(type='path', fallback=(env_fallback, ['X509_USER_PROXY'])),
        client_cert=dict(type='path', fallback=(env_fallback, ['X509_USER_CERT'])),
        client_key=dict(type='path', fallback=(env_fallback, ['X509_USER_KEY'])),
        client_key_passphrase=dict(type='str', no_log=True, fallback=env_fallback_nonempty_spec(
            'HOSTSEC_MYPROXY_CLIENT_KEY_PASSPHRASE')),
        timeout=dict(type='int', default=int(transport.DEFAULT_TIMEOUT),
                     fallback=(env_fallback, ['MYPROXY_SOCKET_TIMEOUT'])),
    )


def ca_dir(params):
    return params.get('ca_dir') or default_cert_dir()


def client_credential(params, authenticate):
    """The credential to authenticate with, or ``None`` for an anonymous connection.

    ``authenticate`` is ``'required'`` (fail without one), ``'optional'`` (use it when the
    files are there and valid, else go anonymous, as myproxy-logon does) or ``'never'``.
    """
    if authenticate == 'never':
        return None
    proxy_path = params.get('client_proxy')
    cert_path = params.get('client_cert')
    key_path = params.get('client_key')
    try:
        if proxy_path:
            credential = read_credential_file(proxy_path)
            source = proxy_path
        elif cert_path:
            credential = read_credential_file(cert_path, key_path or cert_path,
                                              passphrase=params.get('client_key_passphrase'))
            source = cert_path
        else:
            if authenticate == 'required':
                raise MyProxyInputError('this operation needs a client credential: set '
                                        'client_proxy, or client_cert and client_key (or '
                                        'X509_USER_PROXY, X509_USER_CERT and X509_USER_KEY)')
            return None
        if credential.remaining() <= 0:
            raise CredentialFileError('the client credential %s has expired (%s)'
                                      % (source, credential.describe()['not_after']),
                                      error_name='CREDENTIAL_EXPIRED')
    except CredentialFileError:
        if authenticate == 'required':
            raise
        return None
    return credential


# What inspect_proxy_file found in dest that still lets it renew itself (the server checks
# the rest); any other reason means the file is not used at all.
RENEWABLE_REASONS = ('valid', 'expiring', 'identity_mismatch', 'expired')


def renewal_credential(path, fallback=False, dest_state=None):
    """The credential to renew with (``renew_with``), or ``None``.

    ``dest_state`` is the :func:`~.manage.inspect_proxy_file` result of ``dest`` when
    ``path`` is ``dest`` itself: then the content read there (without following a link) is
    used, and only from a file of its own that only its owner can read, with a chain that
    verifies - a link, a foreign or exposed file at ``dest`` never renews.

    With ``fallback`` (a passphrase is there to use instead) a missing, unusable or expired
    file gives ``None``; otherwise it raises :class:`CredentialFileError`.
    """
    if not path:
        return None
    try:
        if dest_state is not None:
            facts = dest_state['credential']
            if facts and facts['remaining'] <= 0 and not dest_state['file']['problem']:
                # Checked first: an expired chain also fails verification ('untrusted').
                raise CredentialFileError(
                    'the renewal credential %s has expired (%s); a proxy can only be renewed '
                    'while it is valid: retrieve a new one with the passphrase'
                    % (path, facts['not_after']), error_name='RENEWAL_CREDENTIAL_EXPIRED')
            if dest_state['reason'] not in RENEWABLE_REASONS:
                raise CredentialFileError(
                    'renew_with is dest, and %s cannot renew (%s): %s'
                    % (path, dest_state['reason'], dest_state['error'] or 'no usable credential'),
                    error_name='RENEWAL_CREDENTIAL_UNUSABLE',
                    details={'reason': dest_state['reason']})
            credential = Credential.from_pem(dest_state['content'], source=path)
        else:
            credential = read_credential_file(path)
        if credential.remaining() <= 0:
            raise CredentialFileError(
                'the renewal credential %s has expired (%s); a proxy can only be renewed while '
                'it is valid: retrieve a new one with the passphrase'
                % (path, credential.describe()['not_after']),
                error_name='RENEWAL_CREDENTIAL_EXPIRED')
    except CredentialFileError:
        if fallback:
            return None
        raise
    return credential


def client_from_params(params, authenticate='optional', credential=None):
    """A :class:`MyProxyClient` for the shared options in ``params``."""
    if not params.get('server'):
        raise MyProxyInputError('no MyProxy server: set the server option or MYPROXY_SERVER')
    timeout = params.get('timeout') or transport.DEFAULT_TIMEOUT
    if timeout <= 0:
        raise MyProxyInputError('timeout must be a positive number of seconds')
    if credential is None:
        credential = client_credential(params, authenticate)
    return MyProxyClient(params['server'], port=params.get('port'), ca_dir=ca_dir(params),
                         server_dn=params.get('server_dn') or None, credential=credential,
                         timeout=timeout)


def client_from_module(module, authenticate='optional'):
    return client_from_params(module.params, authenticate)


MAX_LIFETIME = 366 * 86400


def parse_duration(value, what, allow_zero=False, maximum=MAX_LIFETIME):
    """Seconds of a lifetime option (the collection's one duration type, common/duration.py)."""
    return _parse_duration(value, what, allow_zero=allow_zero, maximum=maximum,
                           error=MyProxyInputError)
