"""The import layers of pyproject.toml hold, and catch what breaks them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
LINT = os.path.join(os.path.dirname(sys.executable), 'lint-imports')


def _lint(tree: str) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, '--config',
                           os.path.join(tree, 'pyproject.toml')],
                          cwd=tree, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=tree), timeout=120)


def _copy_tree(tmp_path) -> str:
    tree = str(tmp_path / 'tree')
    shutil.copytree(os.path.join(ROOT, 'tricircle'),
                    os.path.join(tree, 'tricircle'),
                    ignore=shutil.ignore_patterns('__pycache__', 'tests'))
    shutil.copy(os.path.join(ROOT, 'pyproject.toml'), tree)
    return tree


def test_the_layers_hold(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert '0 broken' in result.stdout


def test_network_importing_xjob_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    with open(os.path.join(tree, 'tricircle', 'network', 'extensions.py'),
              'a') as f:
        f.write('\nfrom tricircle.xjob import engine  # noqa\n')
    result = _lint(tree)
    assert result.returncode != 0
    assert 'BROKEN' in result.stdout
    assert 'tricircle.network.extensions -> tricircle.xjob.engine' in \
        result.stdout


def test_resources_importing_network_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    with open(os.path.join(tree, 'tricircle', 'resources', 'base.py'),
              'a') as f:
        f.write('\nfrom tricircle.network import request_source  # noqa\n')
    result = _lint(tree)
    assert result.returncode != 0
    assert 'tricircle.resources.base -> tricircle.network.request_source' \
        in result.stdout
