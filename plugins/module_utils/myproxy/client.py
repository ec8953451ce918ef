# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MyProxy client: one method per protocol command.

::

    client = MyProxyClient('myproxy.example.org', ca_dir='/etc/grid-security/certificates')
    proxy, _roots = client.get('alice', passphrase, lifetime=12 * 3600)
    write_atomic(path, proxy.to_pem())

Every method opens its own connection (the server serves one request per connection) and
raises the classes of :mod:`.errors`. Passphrases go into the request only and are redacted
from anything the server sends back before it is put into an exception.

Commands (myproxy_protocol.h): GET (0) retrieve a proxy, PUT (1) delegate a proxy, INFO (2),
DESTROY (3), CHANGE_PASSWORD (4), STORE (5) upload an end-entity credential, RETRIEVE (6)
download an end-entity credential, GET_TRUSTROOTS (7).
"""

from .credentials import Credential
from .errors import (CredentialFileError, MyProxyAuthorizationError, MyProxyConnectionError,
                     MyProxyCredentialNotFoundError, MyProxyInputError, MyProxyProtocolError,
                     MyProxyServerError, server_error)
from . import protocol
from . import proxy as mproxy
from . import transport
from . import x509 as mx509


class MyProxyClient(object):
    """Talk to a MyProxy server (or the first reachable of a comma-separated list).

    :param server: host name, ``host:port``, or a comma-separated list of them.
    :param port: the default port (7512).
    :param ca_dir: trusted CA directory (hashed, as ``X509_CERT_DIR``).
    :param server_dn: the server's expected DN, instead of the host name check.
    :param credential: a :class:`Credential` to authenticate with (certificate or proxy);
        ``None`` connects anonymously (enough for GET with a passphrase).
    :param timeout: seconds for the whole exchange with one server (connecting, the TLS
        handshake, the request and every reply).
    """

    def __init__(self, server, port=None, ca_dir=None, server_dn=None, credential=None,
                 timeout=transport.DEFAULT_TIMEOUT):
        self.servers = transport.parse_servers(server, port)
        self.ca_dir = ca_dir
        self.server_dn = server_dn
        self.credential = credential
        self.timeout = timeout
        self.connections = 0
        self.last_server = None

    # ------------------------------------------------------------------ plumbing

    def connect(self, verify=True):
        """Open a connection to the first server that accepts one."""
        last = None
        for host, port in self.servers:
            connection = transport.Connection(host, port, ca_dir=self.ca_dir,
                                              server_dn=self.server_dn,
                                              credential=self.credential,
                                              timeout=self.timeout, verify=verify)
            self.connections += 1
            try:
                connection.open()
            except MyProxyConnectionError as exc:
                connection.close()
                last = exc
                continue
            except Exception:
                connection.close()
                raise
            self.last_server = '%s:%d' % (host, port)
            return connection
        raise last

    def _exchange(self, connection, request, secrets=(), sets_passphrase=False):
        connection.send(request)
        return self._expect_ok(connection.read_message(), secrets, sets_passphrase)

    @staticmethod
    def _expect_ok(message, secrets=(), sets_passphrase=False):
        response = protocol.parse_response(message)
        if response.response_type == protocol.RESPONSE_ERROR:
            raise server_error(response.errors, secrets, sets_passphrase)
        if response.response_type == protocol.RESPONSE_AUTHORIZATION:
            methods = ', '.join(response.authorization_methods()) or 'unknown'
            raise MyProxyAuthorizationError(
                'the server asks for additional authentication (%s), which this client does '
                'not support here (SASL is not implemented; renewal needs renew_with)'
                % methods,
                error_name='AUTHORIZATION_CHALLENGE', details={'methods': methods})
        return response

    def _renew(self, connection, request, renewal, username, digest):
        """Send a GET request and answer the server's renewal challenge with ``renewal``."""
        connection.send(request)
        client = mx509.oneline(self.credential.cert.subject)
        try:
            response = protocol.parse_response(connection.read_message())
            if response.response_type == protocol.RESPONSE_ERROR:
                raise server_error(response.errors)
            if response.response_type == protocol.RESPONSE_OK:
                return response
            challenges = response.authorization_challenges()
            challenge = challenges.get('X509_certificate', challenges.get('X509_CERTIFICATE'))
            if challenge is None:
                methods = ', '.join(sorted(challenges)) or 'unknown'
                raise MyProxyAuthorizationError(
                    'the server did not offer renewal (X509_certificate authorization) to %s '
                    'for %s; it asks for %s' % (client, username, methods),
                    error_name='RENEWAL_REFUSED', details={'methods': methods})
            connection.send(mproxy.renewal_reply(renewal, challenge, digest))
            response = protocol.parse_response(connection.read_message())
            if response.response_type == protocol.RESPONSE_ERROR:
                raise server_error(response.errors)
            if response.response_type != protocol.RESPONSE_OK:
                raise MyProxyProtocolError('the server sent another authorization challenge '
                                           'after the renewal answer',
                                           error_name='UNEXPECTED_REPLY')
            return response
        except MyProxyServerError as exc:
            if isinstance(exc, MyProxyCredentialNotFoundError):
                raise
            text = exc.details.get('server_error', str(exc)) if exc.details else str(exc)
            raise MyProxyAuthorizationError(
                'the server refused to renew the credential of %s for %s (server error: %s). '
                'Renewal needs the client identity %s to match the server\'s '
                'authorized_renewers policy and the credential\'s renewers policy (the '
                'server\'s default_renewers when the credential has none), a stored credential '
                'without a passphrase, and a renewal credential (renew_with) of the identity '
                'the credential was stored for' % (username, client, text, client),
                error_name='RENEWAL_REFUSED',
                details={'server_error': text, 'client': client,
                         'renewal_identity': renewal.identity})

    def _require_credential(self, command):
        if self.credential is None or self.credential.key is None:
            raise MyProxyInputError('%s needs a client certificate or proxy with its key to '
                                    'authenticate to the server' % command)

    # ------------------------------------------------------------------ commands

    def get(self, username, passphrase, lifetime=12 * 3600, credname=None, key=None,
            key_type='rsa', key_size=2048, want_trustroots=False, renewal=None):
        """GET: retrieve a proxy credential.

        The key pair is made here (or ``key`` is used) and only a certificate request leaves
        this host. Returns ``(Credential, trust roots dict or None)``.

        With ``renewal`` (a :class:`Credential` with its key, usually a proxy about to expire)
        this is a renewal, ``myproxy-logon -a``: no passphrase is sent, and the server's
        ``X509_certificate`` challenge is answered with a signature made with that
        credential. The connection itself authenticates with the client credential, which
        the server's ``authorized_renewers`` and the credential's ``renewers`` policy (or
        ``default_renewers``) must allow.
        """
        if renewal is not None:
            if renewal.key is None:
                raise MyProxyInputError('renewal needs the credential being renewed with its key')
            if self.credential is None:
                raise MyProxyInputError('renewal needs a client credential to authenticate with')
            passphrase = ''
        protocol.check_value('passphrase', passphrase, allow_empty=self.credential is not None)
        key = key or mx509.generate_key(key_type, key_size)
        request_der = mproxy.certificate_request(key)
        request = protocol.build_request(protocol.GET, username, passphrase, lifetime,
                                         credname=credname, want_trustroots=want_trustroots)
        secrets = [passphrase]
        digests = list(mproxy.RENEWAL_DIGESTS)
        while True:
            try:
                return self._get(username, request, request_der, key, secrets, want_trustroots,
                                 renewal, digests[0])
            except MyProxyAuthorizationError as exc:
                # A server verifying with another digest says "bad signature": try the next.
                if renewal is None or len(digests) == 1 or \
                        'signature' not in exc.details.get('server_error', '').lower():
                    raise
                digests.pop(0)

    def _get(self, username, request, request_der, key, secrets, want_trustroots, renewal,
             digest):
        with self.connect() as connection:
            if renewal is not None:
                response = self._renew(connection, request, renewal, username, digest)
            else:
                response = self._exchange(connection, request, secrets)
            roots = protocol.parse_trustroots(response) if want_trustroots else None
            connection.send(request_der)
            if connection.peek_is_message():
                self._expect_ok(connection.read_message(), secrets)
                raise MyProxyProtocolError('the server answered the certificate request with a '
                                           'message instead of certificates',
                                           error_name='UNEXPECTED_REPLY')
            count = connection.read_byte()
            if count == 0:
                raise MyProxyProtocolError('the server sent an empty certificate chain',
                                           error_name='MALFORMED_REPLY')
            if count > transport.MAX_CHAIN:
                raise MyProxyProtocolError(
                    'the server announced a chain of %d certificates; at most %d are accepted'
                    % (count, transport.MAX_CHAIN), error_name='CHAIN_TOO_LONG',
                    details={'count': count, 'limit': transport.MAX_CHAIN})
            certs = mproxy.parse_certificates([connection.read_der() for _i in range(count)])
            self._expect_ok(connection.read_message(), secrets)
        if not mx509.public_key_equal(certs[0].public_key(), key.public_key()):
            raise MyProxyProtocolError('the certificate the server signed is not for our key',
                                       error_name='KEY_MISMATCH')
        return Credential(certs[0], key, certs[1:]), roots

    def put(self, username, passphrase, lifetime=7 * 24 * 3600, max_proxy_lifetime=12 * 3600,
            credname=None, description=None, retrievers=None, renewers=None,
            trusted_retrievers=None, signer=None, limited=False):
        """PUT: delegate a proxy of ``signer`` (default: the client credential) to the server.

        ``lifetime`` is the lifetime of the delegated proxy; ``max_proxy_lifetime`` the
        longest proxy the server will hand out from it (``LIFETIME`` of the request).
        """
        self._require_credential('PUT')
        signer = signer or self.credential
        if passphrase:  # empty: a credential without a passphrase (myproxy-init -n)
            protocol.check_passphrase('passphrase', passphrase)
        request = protocol.build_request(
            protocol.PUT, username, passphrase, max_proxy_lifetime, retrievers=retrievers,
            renewers=renewers, credname=credname, description=description,
            trusted_retrievers=trusted_retrievers)
        secrets = [passphrase]
        with self.connect() as connection:
            self._exchange(connection, request, secrets, sets_passphrase=True)
            if connection.peek_is_message():
                self._expect_ok(connection.read_message(), secrets, True)
                raise MyProxyProtocolError('the server sent a message instead of a certificate '
                                           'request', error_name='UNEXPECTED_REPLY')
            public_key = mproxy.load_request(connection.read_der())
            proxy_cert = mproxy.sign_proxy(public_key, signer.cert, signer.key, lifetime,
                                           limited=limited)
            connection.send(mproxy.delegation_reply(proxy_cert, signer.cert, signer.chain))
            self._expect_ok(connection.read_message(), secrets, True)
        return proxy_cert

    def store(self, username, credential, key_passphrase, credname=None, description=None,
              max_proxy_lifetime=12 * 3600, retrievers=None, renewers=None,
              key_retrievers=None, trusted_retrievers=None):
        """STORE: upload an end-entity credential (certificate, chain and private key).

        The key is sent encrypted with ``key_passphrase``, which is then the passphrase for
        retrieving proxies from it (the server decrypts it with the GET passphrase). An empty
        ``key_passphrase`` stores the key unencrypted: a credential without a passphrase,
        retrievable only by renewal or by trusted retrievers (``myproxy-store`` of an
        unencrypted key, ``myproxy-init -n``).
        """
        self._require_credential('STORE')
        if key_passphrase:
            protocol.check_passphrase('passphrase', key_passphrase)
        if credential.key is None:
            raise CredentialFileError('the credential to store has no private key',
                                      error_name='CORRUPT_CREDENTIAL')
        payload = (mx509.cert_to_pem(credential.cert)
                   + mx509.key_to_pem(credential.key, key_passphrase)
                   + b''.join(mx509.cert_to_pem(cert) for cert in credential.chain) + b'\0')
        request = protocol.build_request(
            protocol.STORE, username, '', max_proxy_lifetime, retrievers=retrievers,
            renewers=renewers, credname=credname, description=description,
            key_retrievers=key_retrievers, trusted_retrievers=trusted_retrievers)
        with self.connect() as connection:
            self._exchange(connection, request)
            connection.send(payload)
            self._expect_ok(connection.read_message(), [key_passphrase])

    def info(self, username, credname=None):
        """INFO: the credentials stored for ``username`` that this client owns.

        An empty list when there are none (the server answers that with an error).
        """
        self._require_credential('INFO')
        request = protocol.build_request(protocol.INFO, username, '', 0, credname=credname)
        with self.connect() as connection:
            try:
                response = self._exchange(connection, request)
            except MyProxyCredentialNotFoundError:
                return []
        creds = protocol.parse_info(response)
        if credname is not None:
            creds = [cred for cred in creds if (cred['name'] or None) == credname]
        return creds

    def destroy(self, username, credname=None):
        """DESTROY: remove a stored credential."""
        self._require_credential('DESTROY')
        request = protocol.build_request(protocol.DESTROY, username, '', 0, credname=credname)
        with self.connect() as connection:
            self._exchange(connection, request)

    def change_passphrase(self, username, passphrase, new_passphrase, credname=None):
        """CHANGE_PASSWORD: re-encrypt a stored credential with ``new_passphrase``."""
        self._require_credential('CHANGE_PASSWORD')
        protocol.check_value('passphrase', passphrase)
        protocol.check_passphrase('new passphrase', new_passphrase)
        request = protocol.build_request(protocol.CHANGE_PASSWORD, username, passphrase, 0,
                                         new_passphrase=new_passphrase, credname=credname)
        with self.connect() as connection:
            self._exchange(connection, request, [passphrase, new_passphrase],
                           sets_passphrase=True)

    def retrieve(self, username, passphrase, credname=None):
        """RETRIEVE: download a stored end-entity credential (needs key retriever rights).

        Returns the :class:`Credential` with its key decrypted with ``passphrase``.
        """
        protocol.check_value('passphrase', passphrase)
        request = protocol.build_request(protocol.RETRIEVE, username, passphrase, 0,
                                         credname=credname)
        secrets = [passphrase]
        with self.connect() as connection:
            self._exchange(connection, request, secrets)
            payload, message = connection.read_until_message()
            self._expect_ok(message, secrets)
        payload = payload.rstrip(b'\0')
        return Credential.from_pem(payload, passphrase=passphrase, source='the retrieved credential')

    def get_trustroots(self, bootstrap=False):
        """GET_TRUSTROOTS: ``({file name: content}, server certificate chain)``.

        With ``bootstrap`` the server certificate is *not* verified (trust on first use): use
        it only to fetch the first trust roots of a server you trust by other means.
        """
        request = protocol.build_request(protocol.GET_TRUSTROOTS, '', '', 0, want_trustroots=True)
        with self.connect(verify=not bootstrap) as connection:
            response = self._exchange(connection, request)
            chain = list(connection.peer_chain)
            subject = connection.server_subject
        roots = protocol.parse_trustroots(response)
        if roots is None:
            raise MyProxyProtocolError('the server sent no trust roots (is cert_dir set in its '
                                       'configuration?)', error_name='NO_TRUST_ROOTS')
        return roots, chain, subject
