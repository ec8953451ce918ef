# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the PAM client (module_utils) once: JSON keyword arguments on stdin, result on stdout.

Tests start it as a separate process so that pam_wrapper can be preloaded into it
(LD_PRELOAD only works at process start). PYTHONPATH must contain build/collections.
"""

import json
import sys

from ansible_collections.hostsec.mgmt.plugins.module_utils.common.errors import HostsecError
from ansible_collections.hostsec.mgmt.plugins.module_utils.pam import client


def main():
    kwargs = json.load(sys.stdin)
    try:
        result = client.run_check(**kwargs)
    except HostsecError as exc:
        result = {'error': exc.to_dict()}
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
