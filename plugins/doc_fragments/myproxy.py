# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """The connection options of every myproxy module (module_utils/myproxy/args.py)."""

    DOCUMENTATION = r"""
options:
  server:
    description:
      - The MyProxy server host name, C(host:port), or a comma-separated list of them that
        are tried in order until one accepts the connection.
      - If not set, the E(MYPROXY_SERVER) environment variable of the managed host is used.
        One of the two is required.
    type: str
  port:
    description:
      - The TCP port of the server, for entries of O(server) without their own port.
      - If not set, E(MYPROXY_SERVER_PORT) is used, else 7512.
    type: int
    default: 7512
  server_dn:
    description:
      - The distinguished name the server certificate must have, for example
        V(/O=Grid/OU=Example/CN=host/myproxy.example.org) (RFC 4514 form such as
        V(CN=myproxy.example.org,O=Grid) is accepted too).
      - By default the certificate must name the host connected to, as C(CN=<host>),
        C(CN=host/<host>), C(CN=myproxy/<host>) or a subjectAltName.
      - If not set, E(MYPROXY_SERVER_DN) is used.
    type: str
  ca_dir:
    description:
      - The directory of trusted CA certificates (OpenSSL hashed directory as used by Globus)
        that the server certificate must chain to. TLS verification cannot be turned off;
        use M(hostsec.mgmt.myproxy_trustroots) with O(hostsec.mgmt.myproxy_trustroots#module:bootstrap=true)
        to get the first trust roots.
      - If not set, E(X509_CERT_DIR) is used, else C(/etc/grid-security/certificates) (and for
        other users than root C(~/.globus/certificates) when it exists).
    type: path
  client_proxy:
    description:
      - A proxy credential file (certificate, unencrypted key, chain) to authenticate to the
        server with. Takes precedence over O(client_cert), as in the Globus tools.
      - If not set, E(X509_USER_PROXY) is used.
    type: path
  client_cert:
    description:
      - A certificate (user or host certificate) to authenticate to the server with, with its
        key in O(client_key).
      - If not set, E(X509_USER_CERT) is used.
    type: path
  client_key:
    description:
      - The private key of O(client_cert). Defaults to O(client_cert) itself (both in one
        file).
      - If not set, E(X509_USER_KEY) is used.
    type: path
  client_key_passphrase:
    description:
      - The passphrase of an encrypted O(client_key). Never returned or logged.
      - If not set, E(HOSTSEC_MYPROXY_CLIENT_KEY_PASSPHRASE) is used (an empty variable counts
        as unset).
    type: str
  timeout:
    description:
      - Seconds the whole exchange with one server may take (connecting, the TLS handshake, the
        request and every reply). A server that sends its reply too slowly is given up after
        this time, with C(MyProxyConnectionError) / C(ETIMEDOUT).
      - If not set, E(MYPROXY_SOCKET_TIMEOUT) is used, else 30.
    type: int
    default: 30
requirements:
  - cryptography (pip C(cryptography); Debian/Ubuntu C(python3-cryptography); RHEL/Fedora C(python3-cryptography))
  - pyOpenSSL (pip C(pyOpenSSL); Debian/Ubuntu C(python3-openssl); RHEL/Fedora C(python3-pyOpenSSL))
notes:
  - The module talks to the server itself (TLS over TCP, GSI delegation flag, MYPROXYv2
    messages); it does not need the Globus C tools.
  - Errors name their class and a symbolic name in C(error.name) of the failed result, for example
    C(MyProxyAuthenticationError) / C(BAD_PASSPHRASE), C(MyProxyCredentialNotFoundError) /
    C(NO_CREDENTIALS), C(MyProxyServerIdentityError) / C(UNTRUSTED_SERVER_CERTIFICATE) or
    C(SERVER_DN_MISMATCH), C(MyProxyConnectionError) / C(ECONNREFUSED) or C(ETIMEDOUT),
    C(MyProxyProtocolError) / C(TRUNCATED_REPLY), C(MyProxyPassphrasePolicyError) /
    C(PASSPHRASE_POLICY), C(CredentialFileError) / C(CORRUPT_CREDENTIAL).
seealso:
  - name: MyProxy protocol (GFD-E.54)
    description: The protocol the module speaks.
    link: https://www.ogf.org/documents/GFD.54.pdf
  - name: RFC 3820
    description: X.509 Proxy Certificate Profile.
    link: https://www.rfc-editor.org/rfc/rfc3820
"""
