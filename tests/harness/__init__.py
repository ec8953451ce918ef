# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test harness: paths, running Ansible, and the embedded services used by tests and the demo.

Scripts meant to be run as programs live in ``harness/bin/`` (or a subdirectory of their own),
never directly in ``harness/``: there, ``harness/ansible.py`` would shadow the ``ansible``
package for the script.
"""
