# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostsec.mgmt test CIMOM: a CIM-XML (DSP0200) HTTP(S) server backed by pywbem_mock.

pywbem_mock holds the CIM repository and implements the operations; this package decodes the
CIM-XML requests, calls pywbem_mock, and encodes the responses. It runs as a separate process
(``python tests/harness/wbem_server ...``, see cli.py), started for the tests and the demo by
``harness.services.wbem.WbemService``.

Modules: ``cli`` (command line), ``server`` (HTTP/TLS, authentication, quirks, request log),
``cimxml`` (CIM-XML decoding, dispatching to pywbem_mock, encoding), ``repository`` (schema,
instances, providers), ``providers`` (method and indication providers), ``query`` (WQL/CQL
and FQL), ``quirks`` (quirk modes), ``certs`` (throwaway TLS material), ``schema/*.mof``.
"""
