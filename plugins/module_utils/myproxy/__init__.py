# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A MyProxy protocol client (NCSA "MyProxy Protocol", GFD-E.54) on pyOpenSSL and cryptography.

Split by concern:

``errors``
    the exception classes (``error_name`` is the protocol's or the TLS layer's name).
``deps``
    the optional Python dependencies of a managed host (cryptography, pyOpenSSL).
``protocol``
    request serialization and response parsing (pure functions, no I/O).
``x509``
    distinguished names, proxy certificate types, key generation, PEM layout.
``proxy``
    RFC 3820 proxy certificates: certificate requests and signing for delegation.
``credentials``
    credential files in the myproxy-logon layout: reading, describing, rendering.
``transport``
    TLS over TCP to the server, server identity checks, message framing.
``client``
    :class:`~.client.MyProxyClient`, one method per protocol command.
``trustroots``
    writing the trust roots the server sends into a CA directory.
``args``
    the connection options shared by every myproxy module (argument spec + client factory).
"""
