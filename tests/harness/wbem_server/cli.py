# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line of the test CIMOM (``python tests/harness/wbem_server --help``).

Examples, from the repository root with the project's virtualenv::

    # plain HTTP on a free port, no authentication; ports are written to /tmp/cimom/ready.json
    .venv/bin/python tests/harness/wbem_server --state-dir /tmp/cimom --http-port 0

    # HTTP on 15988 and HTTPS on 15989 with throwaway certificates, Basic auth and
    # client-certificate auth, 10000 bulk instances (benchmarks)
    .venv/bin/python tests/harness/wbem_server --state-dir /tmp/cimom --http-port 15988 \\
        --https-port 15989 --generate-certs /tmp/cimom/tls --username admin --password s3cret \\
        --bulk 10000

    # switch quirks while it runs (see quirks.py for all of them)
    echo '{"delay": 2, "no_pull": true}' > /tmp/cimom/quirks.json.new && \\
        mv /tmp/cimom/quirks.json.new /tmp/cimom/quirks.json

The server listens on 127.0.0.1 only, logs to stderr, appends every request to
``STATE_DIR/requests.jsonl`` and stops on SIGTERM or SIGINT.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading

from . import certs, repository, server
from .quirks import QuirkState, write_quirks


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='python tests/harness/wbem_server',
        description='hostsec.mgmt test CIMOM: a CIM-XML server on 127.0.0.1 backed by pywbem_mock.')
    parser.add_argument('--state-dir', required=True,
                        help='directory for quirks.json, requests.jsonl and ready.json')
    parser.add_argument('--http-port', type=int, help='serve plain HTTP on this port (0: any free port)')
    parser.add_argument('--https-port', type=int, help='serve HTTPS on this port (0: any free port)')
    parser.add_argument('--extra-https-ports', type=int, default=0, metavar='N',
                        help='also serve HTTPS on N more free ports (a fleet of endpoints, one repository; '
                             'the ports are listed as extra_https_ports in the ready file)')
    parser.add_argument('--certfile', help='server certificate (PEM) for HTTPS')
    parser.add_argument('--keyfile', help='key of the server certificate (PEM)')
    parser.add_argument('--generate-certs', metavar='DIR',
                        help='write a throwaway CA, server and client certificates into DIR and use them')
    parser.add_argument('--client-ca', help='accept client certificates signed by this CA (PEM) as authentication')
    parser.add_argument('--require-client-cert', action='store_true',
                        help='refuse TLS connections without a client certificate')
    parser.add_argument('--username', help='require authentication: HTTP Basic with this user, or a client certificate')
    parser.add_argument('--password', help='the password (visible in the process list: prefer --password-file)')
    parser.add_argument('--password-file', help='file whose first line is the password')
    parser.add_argument('--quirks', help='quirks in force at start, as a JSON object (see quirks.py)')
    parser.add_argument('--bulk', type=int, default=50, help='number of HOSTSEC_BulkElement instances (default 50)')
    parser.add_argument('--hostname', default=repository.SYSTEM_NAME,
                        help='host name in the instance paths of responses (default %(default)s)')
    parser.add_argument('--ready-file', help='JSON file written once listening (default STATE_DIR/ready.json)')
    parser.add_argument('-v', '--verbose', action='store_true', help='log every HTTP request')
    args = parser.parse_args(argv)
    if args.http_port is None and args.https_port is None:
        parser.error('give --http-port and/or --https-port')
    if args.extra_https_ports and args.https_port is None:
        parser.error('--extra-https-ports needs --https-port')
    if args.https_port is not None and not args.generate_certs and not (args.certfile and args.keyfile):
        parser.error('HTTPS needs --certfile and --keyfile, or --generate-certs')
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    log = logging.getLogger('hostsec-test-cimom')
    os.makedirs(args.state_dir, exist_ok=True)
    quirk_path = os.path.join(args.state_dir, 'quirks.json')
    if args.quirks is not None:
        write_quirks(quirk_path, json.loads(args.quirks))
    password = args.password
    if args.password_file:
        with open(args.password_file, encoding='utf-8') as handle:
            password = handle.readline().rstrip('\r\n')
    if password is None:
        password = os.environ.get('HOSTSEC_WBEM_PASSWORD')
    if args.username and password is None:
        raise SystemExit('--username needs --password-file, --password or HOSTSEC_WBEM_PASSWORD')

    certfile, keyfile, client_ca = args.certfile, args.keyfile, args.client_ca
    if args.generate_certs:
        material = certs.generate(args.generate_certs)
        certfile, keyfile = material['server_cert'], material['server_key']
        client_ca = client_ca or material['ca']
        log.info('certificates in %s (CA %s, client %s)', args.generate_certs, material['ca'], material['client_cert'])

    quirk_state = QuirkState(quirk_path)
    conn = repository.build(bulk=args.bulk, quirks=quirk_state.value)
    app = server.CIMOMApp(conn, args.state_dir, args.hostname, username=args.username, password=password,
                          quirk_state=quirk_state)
    servers = []
    ready = {'pid': os.getpid(), 'host': server.LOOPBACK, 'http_port': None, 'https_port': None}
    if args.http_port is not None:
        servers.append(server.CIMOMHTTPServer(app, args.http_port))
        ready['http_port'] = servers[-1].server_address[1]
    if args.https_port is not None:
        context = server.tls_context(certfile, keyfile, client_ca, args.require_client_cert)
        servers.append(server.CIMOMHTTPServer(app, args.https_port, ssl_context=context))
        ready['https_port'] = servers[-1].server_address[1]
    fleet = [server.CIMOMHTTPServer(app, 0, ssl_context=context) for _index in range(args.extra_https_ports)]
    ready['extra_https_ports'] = [extra.server_address[1] for extra in fleet]

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    ready_file = args.ready_file or os.path.join(args.state_dir, 'ready.json')
    tmp = ready_file + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(ready, handle)
    os.replace(tmp, ready_file)
    log.info('listening: %s', ', '.join('%s://%s:%s' % (s.scheme, server.LOOPBACK, s.server_address[1])
                                        for s in servers))
    server.serve(servers, stop, fleet=fleet)
    log.info('stopped')
    return 0
