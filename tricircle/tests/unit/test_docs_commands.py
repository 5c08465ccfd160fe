"""Every command the docs show exists, with every option they give it.

The ``$ openstack ... multiregion networking ...`` lines of docs/cli.md
and the ``tricircle-sandbox ...`` lines of README.md, docs/*.md and the
Makefile are parsed against the real parsers (the OSC plugin's command
classes by entry point, ``tricircle-sandbox``'s argparse tree).
"""
from __future__ import annotations

import argparse
import os
import re
from importlib.metadata import entry_points

import pytest

from tricircle.cli import client as cli_client
from tricircle.sandbox import cli as sandbox_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
OSC_WORDS = {'pod', 'routing', 'job', 'schema', 'create', 'list', 'show',
             'update', 'delete', 'redo', 'resource', 'wait', 'audit'}
OPTION = re.compile(r'(?<![\w-])--[a-z][a-z-]*')


def _read(name: str) -> str:
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def _osc_lines() -> list[str]:
    return [line for line in _read('docs/cli.md').splitlines()
            if line.startswith('$ openstack') and 'multiregion' in line]


def _sandbox_lines() -> list[str]:
    lines = []
    docs = sorted('docs/' + n for n in os.listdir(os.path.join(ROOT, 'docs'))
                  if n.endswith('.md'))
    for name in ['README.md', 'Makefile'] + docs:
        for line in _read(name).splitlines():
            if re.search(r'tricircle-sandbox [a-z]', line) and \
                    not line.lstrip().startswith(('#', '|')):
                lines.append(line)
    return lines


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


def test_docs_show_commands():
    assert len(_osc_lines()) >= 15
    assert len(_sandbox_lines()) >= 10


@pytest.mark.parametrize('line', _osc_lines())
def test_osc_command_and_options_exist(line):
    before, _sep, after = line.partition(' multiregion networking ')
    words = after.split()
    path = []
    while words and words[0] in OSC_WORDS:
        path.append(words.pop(0))
    eps = {e.name: e for e in entry_points(
        group='openstack.multiregion_networking.v1')}
    name = 'multiregion_networking_' + '_'.join(path)
    assert name in eps, line
    command = eps[name].load()(None, None)
    known = _options(command.get_parser('openstack'))
    for option in OPTION.findall(' '.join(words)):
        assert option in known, (option, line)
    globals_ = _options(cli_client.build_option_parser(
        argparse.ArgumentParser())) | {'--os-cloud', '--os-auth-type'}
    for option in OPTION.findall(before):
        assert option in globals_, (option, line)


@pytest.mark.parametrize('line', _sandbox_lines())
def test_sandbox_command_and_options_exist(line):
    text = line.split('tricircle-sandbox ', 1)[1]
    words = re.split(r'[#`]', text)[0].split()
    parser = sandbox_cli.build_parser()
    while words:
        subs = [a for a in parser._actions
                if isinstance(a, argparse._SubParsersAction)]
        if not subs or words[0] not in subs[0].choices:
            break
        parser = subs[0].choices[words.pop(0)]
    assert parser.prog != 'tricircle-sandbox', line
    known = _options(parser)
    for option in OPTION.findall(' '.join(words)):
        assert option in known, (option, line)
