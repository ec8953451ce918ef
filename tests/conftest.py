# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-session setup shared by every test directory.

The collection is imported as ``ansible_collections.hostsec.mgmt`` from the mirror under
``build/collections`` (see tools/sync_collection.py), which this file refreshes first, so a
plain ``pytest tests/...`` always tests the working tree.
"""

import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from harness import paths  # noqa: E402  pylint: disable=wrong-import-position

paths.sync_collection()
# Every ansible command a test starts keeps its local tmp and caches under build/.
os.environ['ANSIBLE_HOME'] = paths.ANSIBLE_HOME
os.environ['ANSIBLE_REMOTE_TMP'] = os.path.join(paths.ANSIBLE_HOME, 'remote-tmp')
if paths.COLLECTIONS not in sys.path:
    sys.path.insert(0, paths.COLLECTIONS)

# `make test` runs pytest with pytest-xdist workers (``-n``, ``--dist loadgroup``,
# ``--no-loadscope-reorder``). A test file is the unit of work, as its services are
# module-scoped fixtures, and the files that run ansible-test in the collection mirror (which
# keeps its state in tests/output/ there and its virtualenvs in build/ansible-test-home) share
# one group, so that they never run at the same time. The longest groups go first, so that
# the last ones to finish are short (a worker takes the next group when it is nearly idle).
ANSIBLE_TEST_FILES = ('quality/test_static.py', 'integration/test_ansible_test.py')
LONGEST_FIRST = ('ansible-test', 'molecule/test_scenarios.py',
                 'integration/test_krb5_stock_python.py', 'integration/test_krb5_collections.py',
                 'integration/test_krb5.py', 'integration/test_krb5_keytab.py',
                 'conformance/test_pywbem_cases.py', 'integration/test_pam.py',
                 'integration/test_wbem_modules.py', 'integration/test_myproxy_renewal.py',
                 'quality/test_execution_environment.py', 'integration/test_wbem_hostile.py',
                 'integration/test_wbem_inventory.py')


# Files whose tests are independent of each other and long: each test is a group of its own.
SPLIT_FILES = ('molecule/test_scenarios.py',)


def _relpath(path):
    return os.path.relpath(str(path), TESTS).replace(os.sep, '/')


def xdist_group_of(item):
    rel = _relpath(item.path)
    if rel in ANSIBLE_TEST_FILES:
        return 'ansible-test'
    if rel in SPLIT_FILES:
        # xdist reads the group after the last '@' of a node id, unless a ']' follows it.
        return '%s::%s' % (rel, item.name.translate(str.maketrans('[]@', '()_')))
    return rel


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    import pytest  # pylint: disable=import-outside-toplevel
    rank = {group: index for index, group in enumerate(LONGEST_FIRST)}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(item)))
    # A stable sort: within a group, and among the other groups, pytest's order is kept.
    default = len(rank)
    items.sort(key=lambda item: rank.get(xdist_group_of(item),
                                         rank.get(_relpath(item.path), default)))
