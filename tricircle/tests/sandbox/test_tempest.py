"""CI's tempest smoke run: OpenStack's own network API tests (the smoke
subset of ``tempest.api.network``) against the central Neutron, through a
real Keystone. ``make tempest`` runs the whole suite for measurement."""
from __future__ import annotations

import json
import os

import pytest

from tricircle.tests.sandbox.conftest import sandbox_cmd

pytestmark = pytest.mark.sandbox

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
# Smoke tests in tempest.api.network (tempest 47): what must pass.
MIN_SMOKE_PASSED = 40


def test_tempest_smoke_passes_against_central(tmp_path):
    workspace = str(tmp_path / 'tempest')
    proc = sandbox_cmd('tempest', '--smoke', '--workspace', workspace,
                       '--venv', os.path.join(REPO, '.tempest-venv'),
                       check=False, timeout=1800)
    print(proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(os.path.join(workspace, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['target'] == 'tricircle'
    assert summary['region'] == 'CentralRegion'
    assert summary['failed'] == 0, summary['failures']
    assert summary['passed'] >= MIN_SMOKE_PASSED
    # What tempest was told the server offers is what it advertises.
    assert {'router', 'security-group', 'external-net'} <= set(
        summary['api_extensions'])
    # The sandbox went away with the run.
    assert not os.path.exists(os.path.join(workspace, 'sandbox'))
