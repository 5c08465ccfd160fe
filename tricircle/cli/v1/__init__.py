"""The ``openstack multiregion networking ...`` commands (an OSC plugin)."""
from __future__ import annotations

import argparse

from osc_lib.command import command


class Lister(command.Lister):
    """A list command whose empty table still shows its headers.

    cliff prints nothing for an empty list unless ``--print-empty`` is
    given: "no jobs" would look like "no answer".
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.set_defaults(print_empty=True)
        return parser
