# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the PAM client (module_utils) once: JSON keyword arguments on stdin, result on stdout.

Tests start it as a separate process so that pam_wrapper can be preloaded into it
(LD_PRELOAD only works at process start). PYTHONPATH must contain build/collections.
The peak RSS of the process is printed to stderr last, as ``hostsec-probe-maxrss-kb=N``.
"""

import json
import resource
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
    sys.stdout.flush()
    sys.stderr.write('hostsec-probe-maxrss-kb=%d\n'
                     % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == '__main__':
    main()
