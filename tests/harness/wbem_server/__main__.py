# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the test CIMOM: ``python tests/harness/wbem_server --help`` (from the repository root)
or ``python -m harness.wbem_server --help`` (with ``tests`` on ``sys.path``). See cli.py."""

import os
import sys

if not __package__:
    # Started as a directory: make ``harness`` importable from the tests directory.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from harness.wbem_server.cli import main  # pylint: disable=import-error,wrong-import-position
else:
    from .cli import main

if __name__ == '__main__':
    sys.exit(main())
