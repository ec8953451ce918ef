# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-test units runs pytest with its own configuration (--strict-markers, without
tests/pytest.ini): declare the ``slow`` marker the role tests use."""


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: takes more than a few seconds (services, playbooks, ansible-test)')
