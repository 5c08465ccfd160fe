"""``tricircle-xjob``: the daemon that runs cross-region jobs."""
from __future__ import annotations

import sys

from oslo_config import cfg
from oslo_log import log as logging

from tricircle.common import config
from tricircle.xjob import service


def main(argv: list[str] | None = None) -> int:
    conf = cfg.CONF
    logging.register_options(conf)
    config.register_xjob_opts(conf)
    conf(sys.argv[1:] if argv is None else argv, project='tricircle',
         prog='tricircle-xjob')
    logging.setup(conf, 'tricircle')
    svc = service.XJobService(conf)
    svc.start()
    svc.wait()
    return 0


if __name__ == '__main__':
    sys.exit(main())
