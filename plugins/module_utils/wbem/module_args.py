# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every wbem module shares, and the WBEMConnection built from them.

Documented once in ``plugins/doc_fragments/wbem.py`` (``hostsec.mgmt.wbem``). Modules do::

    argument_spec = wbem_argument_spec(class_name=dict(type='str', required=True), ...)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    LXML.fail_if_missing(module)
    with fail_on_error(module):
        with connection_from_params(module.params) as conn:
            ...

Every option falls back to an environment variable of the managed host (``WBEM_SERVER``,
``WBEM_USERNAME``, ``WBEM_PASSWORD``, ``WBEM_NAMESPACE``, ``WBEM_CA_CERTS``,
``WBEM_VALIDATE_CERTS``, ``WBEM_CLIENT_CERT``, ``WBEM_CLIENT_KEY``,
``WBEM_CLIENT_KEY_PASSPHRASE``, ``WBEM_TIMEOUT``, ``WBEM_MAX_RESPONSE_SIZE``,
``WBEM_ALLOW_PLAIN_HTTP_AUTH``), so ad-hoc ``ansible -m hostsec.mgmt.wbem_info`` calls need
only the module's own options. An empty variable counts as unset.
"""

import os

from ..common.env import env_fallback_nonempty
from ..common.errors import InvalidInputError
from . import memory
from .operations import DEFAULT_NAMESPACE, DEFAULT_TIMEOUT, WBEMConnection
from .xml_parse import DEFAULT_MAX_SIZE, Limits

#: option -> environment variable read when the option is not set.
ENVIRONMENT = {
    'server': 'WBEM_SERVER',
    'namespace': 'WBEM_NAMESPACE',
    'username': 'WBEM_USERNAME',
    'password': 'WBEM_PASSWORD',
    'ca_certs': 'WBEM_CA_CERTS',
    'validate_certs': 'WBEM_VALIDATE_CERTS',
    'client_cert': 'WBEM_CLIENT_CERT',
    'client_key': 'WBEM_CLIENT_KEY',
    'client_key_passphrase': 'WBEM_CLIENT_KEY_PASSPHRASE',
    'timeout': 'WBEM_TIMEOUT',
    'max_response_size': 'WBEM_MAX_RESPONSE_SIZE',
    'allow_plain_http_auth': 'WBEM_ALLOW_PLAIN_HTTP_AUTH',
}


def _env(name):
    return (env_fallback_nonempty, [ENVIRONMENT[name]])


def wbem_common_argument_spec():
    """A fresh copy of the shared connection options."""
    return dict(
        server=dict(type='str', fallback=_env('server')),
        namespace=dict(type='str', default=DEFAULT_NAMESPACE, fallback=_env('namespace')),
        username=dict(type='str', fallback=_env('username')),
        password=dict(type='str', no_log=True, fallback=_env('password')),
        ca_certs=dict(type='path', fallback=_env('ca_certs')),
        validate_certs=dict(type='bool', default=True, fallback=_env('validate_certs')),
        client_cert=dict(type='path', fallback=_env('client_cert')),
        client_key=dict(type='path', no_log=False, fallback=_env('client_key')),
        client_key_passphrase=dict(type='str', no_log=True,
                                   fallback=_env('client_key_passphrase')),
        timeout=dict(type='float', default=float(DEFAULT_TIMEOUT), fallback=_env('timeout')),
        max_response_size=dict(type='bytes', default=DEFAULT_MAX_SIZE,
                               fallback=_env('max_response_size')),
        allow_plain_http_auth=dict(type='bool', default=False,
                                   fallback=_env('allow_plain_http_auth')),
    )


def wbem_argument_spec(**module_options):
    """The shared options plus the module's own ``module_options``."""
    spec = wbem_common_argument_spec()
    spec.update(module_options)
    return spec


def connection_kwargs(params):
    """The keyword arguments of :class:`WBEMConnection` for the shared options in ``params``.

    Checked here, before anything is contacted: a server is given, the password comes with a
    user name, the client key with a certificate, files exist, the timeout and the response
    size limit are positive.
    """
    server = params.get('server')
    if not server:
        raise InvalidInputError('no WBEM server: set the server option or WBEM_SERVER',
                                error_name='NO_SERVER')
    username = params.get('username')
    password = params.get('password')
    creds = None
    if username:
        if password is None:
            raise InvalidInputError('username %s is given without a password (option password '
                                    'or WBEM_PASSWORD)' % username, error_name='NO_PASSWORD')
        creds = (username, password)
    elif password:
        raise InvalidInputError('a password is given without a username (option username or '
                                'WBEM_USERNAME)', error_name='NO_USERNAME')
    x509 = None
    client_cert = params.get('client_cert')
    client_key = params.get('client_key')
    if client_key and not client_cert:
        raise InvalidInputError('client_key is given without client_cert',
                                error_name='NO_CLIENT_CERT')
    key_passphrase = params.get('client_key_passphrase')
    if key_passphrase is not None and not client_cert:
        raise InvalidInputError('client_key_passphrase is given without client_cert',
                                error_name='NO_CLIENT_CERT')
    for option in ('ca_certs', 'client_cert', 'client_key'):
        path = params.get(option)
        if path and not os.path.exists(path):
            raise InvalidInputError('%s %s does not exist' % (option, path), error_name='ENOENT')
    if client_cert:
        x509 = {'cert_file': client_cert, 'key_file': client_key or client_cert}
        if key_passphrase is not None:
            x509['key_passphrase'] = key_passphrase
    timeout = params.get('timeout')
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if timeout <= 0:
        raise InvalidInputError('timeout must be a positive number of seconds',
                                error_name='INVALID_TIMEOUT')
    max_size = params.get('max_response_size')
    if max_size is None:
        max_size = DEFAULT_MAX_SIZE
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= 0:
        raise InvalidInputError('max_response_size must be a positive number of bytes',
                                error_name='INVALID_MAX_RESPONSE_SIZE')
    namespace = (params.get('namespace') or DEFAULT_NAMESPACE).strip('/')
    return dict(url=server, creds=creds, default_namespace=namespace, x509=x509,
                ca_certs=params.get('ca_certs') or None,
                validate_certs=params.get('validate_certs', True) is not False,
                timeout=timeout, limits=Limits(max_size=max_size),
                allow_plain_http_auth=bool(params.get('allow_plain_http_auth')))


def connection_from_params(params, **overrides):
    """A :class:`WBEMConnection` for the shared options in ``params`` (a context manager)."""
    kwargs = connection_kwargs(params)
    kwargs.update(overrides)
    return memory.attach(WBEMConnection(**kwargs), kwargs)


def connection_warnings(params):
    """Warnings about options that weaken the connection's security, where they take effect."""
    warnings = []
    server = params.get('server') or ''
    scheme = server.split('://', 1)[0].lower() if '://' in server else 'https'
    if scheme == 'https' and params.get('validate_certs', True) is False:
        warnings.append('validate_certs is false: the certificate of the WBEM server %s is not '
                        'verified, so anybody on the network path can impersonate the server '
                        'and read what is sent to it' % server)
    if scheme == 'http' and params.get('allow_plain_http_auth') and params.get('username'):
        warnings.append('allow_plain_http_auth is true: the password of %s is sent '
                        'unencrypted over http to %s, readable by anybody on the network path'
                        % (params.get('username'), server))
    return warnings


def connection_from_module(module, **overrides):
    """:func:`connection_from_params` for ``module``, which also warns (``module.warn``) about
    ``validate_certs=false`` and ``allow_plain_http_auth=true`` where they take effect."""
    for warning in connection_warnings(module.params):
        module.warn(warning)
    return connection_from_params(module.params, **overrides)


def connection_facts(params):
    """What a module returns about the connection it used (never credentials)."""
    return {'server': params.get('server'),
            'namespace': (params.get('namespace') or DEFAULT_NAMESPACE).strip('/')}


VERBS = {'create': 'created', 'modify': 'modified', 'delete': 'deleted'}


def exit_ensured(module, result, what, name, up_to_date='up to date', details=None, verbs=None):
    """End a ``state: present|absent`` module with its message, and its diff when asked for.

    ``result`` is what an ``ensure_*`` function returned (``action``, ``changed``, ``diff`` ...);
    ``details`` (a list of names) is appended to the message of a change.
    """
    diff = result.pop('diff')
    if module._diff and result['changed']:  # pylint: disable=protected-access
        result['diff'] = diff
    if result['action'] is None:
        msg = '%s %s is %s' % (what, name, up_to_date
                               if module.params['state'] == 'present' else 'absent')
    else:
        msg = '%s %s %s' % (dict(VERBS, **(verbs or {}))[result['action']], what, name)
        if details:
            msg += ' (%s)' % ', '.join(details)
        if module.check_mode:
            msg = 'check mode: would have ' + msg
    module.exit_json(msg=msg, **result)
