# Copyright (c) hostsec.mgmt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append every task result as one JSON line to $HOSTSEC_RESULTS_FILE."""

DOCUMENTATION = r"""
name: hostsec_results
type: aggregate
short_description: Write task results as JSON lines (hostsec.mgmt test harness)
description:
  - Appends one JSON object per task result to the file named by E(HOSTSEC_RESULTS_FILE).
  - The results are what Ansible itself would print, after C(no_log) censoring.
requirements:
  - enable in configuration
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'hostsec_results'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, status, result):
        path = os.environ.get('HOSTSEC_RESULTS_FILE')
        if not path:
            return
        record = {
            'status': status,
            'host': result._host.get_name(),  # pylint: disable=protected-access
            'task': result._task.get_name(),  # pylint: disable=protected-access
            'action': result._task.action,  # pylint: disable=protected-access
            'result': self._clean(result._result),  # pylint: disable=protected-access
        }
        with open(path, 'a') as handle:
            handle.write(json.dumps(record, default=repr, sort_keys=True) + '\n')

    @staticmethod
    def _clean(value):
        return json.loads(json.dumps(value, default=repr))

    def v2_runner_on_ok(self, result):
        self._write('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write('ignored' if ignore_errors else 'failed', result)

    def v2_runner_on_skipped(self, result):
        self._write('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._write('unreachable', result)
