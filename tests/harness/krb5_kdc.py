# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start or stop the throwaway Kerberos realm of harness.services.krb5 from the command line.

    python tests/harness/krb5_kdc.py start STATE_DIR   # realm + KDC; STATE_DIR/vars.json, kdc.pid
    python tests/harness/krb5_kdc.py stop STATE_DIR    # stop the KDC by its PID, remove STATE_DIR

Molecule's create/prepare and destroy playbooks use it: the KDC outlives the command.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.services.krb5 import _main  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == '__main__':
    sys.exit(_main(sys.argv))
