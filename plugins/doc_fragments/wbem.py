# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    """The connection options of every wbem module (module_utils/wbem/module_args.py)."""

    DOCUMENTATION = r"""
options:
  server:
    description:
      - The URL of the WBEM server, V(https://host[:port]) (default port 5989) or
        V(http://host[:port]) (default port 5988). A URL without scheme means HTTPS.
      - If not set, the E(WBEM_SERVER) environment variable of the host the module runs on is
        used. One of the two is required.
    type: str
  namespace:
    description:
      - The CIM namespace to work in (for operations that do not name one themselves).
      - If not set, E(WBEM_NAMESPACE) is used, else V(root/cimv2).
    type: str
    default: root/cimv2
  username:
    description:
      - The user for HTTP Basic authentication. Without it (and without O(client_cert)) the
        requests are sent unauthenticated.
      - If not set, E(WBEM_USERNAME) is used.
    type: str
  password:
    description:
      - The password of O(username). Never returned or logged.
      - If not set, E(WBEM_PASSWORD) is used.
    type: str
  ca_certs:
    description:
      - A PEM file of CA certificates, or a directory of hashed CA certificates, to verify the
        server certificate with. It takes precedence over E(REQUESTS_CA_BUNDLE) and
        E(CURL_CA_BUNDLE); without any of them the system's CA store is used.
      - If not set, E(WBEM_CA_CERTS) is used.
    type: path
  validate_certs:
    description:
      - Whether the server certificate and host name are verified. Set V(false) only for
        tests with throwaway certificates; the module warns when it connects over HTTPS
        without verification.
      - If not set, E(WBEM_VALIDATE_CERTS) is used, else V(true).
    type: bool
    default: true
  client_cert:
    description:
      - A PEM certificate to authenticate to the server with (TLS client certificate
        authentication, for example with OpenPegasus C(sslClientVerificationMode=required)).
      - If not set, E(WBEM_CLIENT_CERT) is used.
    type: path
  client_key:
    description:
      - The PEM private key of O(client_cert). Defaults to O(client_cert) itself
        (certificate and key in one file).
      - An encrypted key needs O(client_key_passphrase); the module never asks for it on a
        terminal and fails with C(CLIENT_KEY_ENCRYPTED) when it is missing.
      - If not set, E(WBEM_CLIENT_KEY) is used.
    type: path
  client_key_passphrase:
    description:
      - The passphrase of an encrypted O(client_key). Never returned or logged. A wrong
        passphrase fails with C(CLIENT_KEY_PASSPHRASE_WRONG).
      - If not set, E(WBEM_CLIENT_KEY_PASSPHRASE) is used.
    type: str
  timeout:
    description:
      - The deadline of each operation, in seconds. Connecting, sending the request and
        receiving the B(whole) response must be done within it, however the server sends
        the response (a server that trickles its response or sends one C(100 Continue) after
        the other fails with C(WBEMTimeoutError) / C(TIMEOUT) after this time).
      - Operations that enumerate with pull operations send several requests (open, then one
        per batch of objects); each request has this deadline.
      - If not set, E(WBEM_TIMEOUT) is used, else 30.
    type: float
    default: 30
  max_response_size:
    description:
      - The largest response, in bytes, the module accepts from the server (units such as
        V(256MB) are accepted, 1 MB = 1048576 bytes). A larger response fails with
        C(XMLParseError) / C(RESPONSE_TOO_LARGE) before it can exhaust the memory of the host
        the module runs on.
      - This also sets how much the objects parsed from one response may make the module's
        memory grow (1.6 bytes per byte of the limit but at least 32 MiB, about 102 MiB by
        default; C(TOO_MUCH_MEMORY)), the largest number of XML elements of a response (one per 32
        bytes; C(TOO_MANY_ELEMENTS)) and of one object in it (one per 800 bytes). Instances
        take about 1.5 bytes of memory per byte of CIM-XML, instance paths about 5; raise the
        limit for results that are larger than that.
      - If not set, E(WBEM_MAX_RESPONSE_SIZE) is used, else 64 MiB.
    type: bytes
    default: 67108864
  allow_plain_http_auth:
    description:
      - The modules refuse to send O(password) over a plain V(http://) URL, where anybody on
        the path can read it. Set V(true) to allow that anyway (for a server reachable only
        through a trusted network or an SSH tunnel). The module then warns each time it sends
        the password that way.
      - If not set, E(WBEM_ALLOW_PLAIN_HTTP_AUTH) is used, else V(false).
    type: bool
    default: false
requirements:
  - lxml (pip C(lxml); Debian/Ubuntu C(python3-lxml); RHEL/Fedora C(python3-lxml)) on the
    host that runs the module.
notes:
  - The module talks CIM-XML (DMTF DSP0200/DSP0201) itself; it needs neither pywbem nor the
    C(wbemcli) tools.
  - The module runs where Ansible runs modules, and usually the WBEM server is a management
    endpoint (a storage array, a BMC, a hypervisor) that cannot run Python, so run the task
    with C(delegate_to) set to V(localhost), or target an inventory of management endpoints with
    a local connection (C(ansible_connection=local)) and set O(server) from a host variable.
  - When the task's connection is C(local) (an inventory of endpoints with
    C(ansible_connection=local), or C(delegate_to=localhost)), the action plugin of the module
    runs it inside Ansible's worker process on the controller instead of starting a Python
    process per task; the result is the same. Other connections, C(become), C(async), and the
    variable C(hostsec_wbem_execution=module) run it as an ordinary module on the target host
    (which then needs lxml); see the Fleets section of the WBEM guide.
  - Within one playbook run, the in-process path remembers per endpoint (URL and credentials,
    hashed) the Interop namespace found and whether the server refused the pull operations,
    so later tasks on the same endpoint do not probe again.
  - All modules of this domain are in the action group C(group/hostsec.mgmt.wbem), so the
    connection options can be set once in C(module_defaults).
  - Failures name their class and the CIM status or a symbolic name in C(error.name) of the
    failed result, for example C(CIMError) / C(CIM_ERR_NOT_FOUND) or C(CIM_ERR_ACCESS_DENIED),
    C(AuthError) / C(HTTP_401), C(WBEMConnectionError) / C(ECONNREFUSED) or
    C(CERTIFICATE_VERIFY_FAILED), C(WBEMTimeoutError) / C(TIMEOUT). Mistakes the module finds
    in its input before it writes anything are C(WBEMValueError) / C(WBEMTypeError) with the
    CIM status that describes them (C(CIM_ERR_INVALID_PARAMETER), C(CIM_ERR_NO_SUCH_PROPERTY),
    C(CIM_ERR_TYPE_MISMATCH)).
seealso:
  - name: DMTF DSP0200 (CIM operations over HTTP)
    description: The protocol the modules speak.
    link: https://www.dmtf.org/sites/default/files/standards/documents/DSP0200_1.4.0.pdf
  - ref: ansible_collections.hostsec.mgmt.docsite.guide_wbem
    description: The WBEM guide, with the dictionary format of CIM objects in results and options.
"""
