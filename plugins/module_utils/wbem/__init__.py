# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's CIM-XML (DSP0200/DSP0201) WBEM client, shaped like pywbem.

Modules::

    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import LXML
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem.operations import WBEMConnection
    from ansible_collections.hostsec.mgmt.plugins.module_utils.wbem import convert

    LXML.fail_if_missing(module)
    with fail_on_error(module):
        conn = WBEMConnection('https://server', creds=(user, password))
        result = [convert.instance_to_dict(i) for i in conn.IterEnumerateInstances('CIM_Foo')]

Parts: ``cim_types`` (CIM data types), ``cim_obj`` (object model), ``xml_encode`` (requests),
``xml_parse`` (safe incremental response parser), ``http`` (transport), ``operations``
(WBEMConnection), ``exceptions`` and ``convert`` (CIM objects <-> JSON-friendly dicts).
The managed host needs the Python package lxml.
"""

import importlib

from ..common.deps import OptionalDependency

LXML = OptionalDependency('lxml', pip='lxml', deb='python3-lxml', rpm='python3-lxml',
                          reason='to parse the CIM-XML responses of WBEM servers')
try:
    importlib.import_module('lxml.etree')
except ImportError as _exc:
    LXML.failed(_exc)
