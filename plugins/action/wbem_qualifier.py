# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hostsec.mgmt.wbem_qualifier: in the worker process on the controller, else the
module (see plugins/plugin_utils/wbem_action.py)."""

from ansible_collections.hostsec.mgmt.plugins.modules import wbem_qualifier
from ansible_collections.hostsec.mgmt.plugins.plugin_utils.wbem_action import WbemAction


class ActionModule(WbemAction):
    MODULE = wbem_qualifier
