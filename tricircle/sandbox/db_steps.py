"""``up`` steps of the databases: SQLite files, or a private PostgreSQL
server with one database per Neutron and one for Tricircle; Neutron's
schema in each (built once and copied, for SQLite) and Tricircle's by
``tricircle-db-manage``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from tricircle.sandbox import neutron_conf
from tricircle.sandbox import neutron_db
from tricircle.sandbox import processes


class DatabaseSteps:
    """Mixed into :class:`tricircle.sandbox.up.Up` (its state, dirs,
    region names and ``db_urls``)."""

    def start_database(self) -> None:
        names = ['neutron_%s' % n.lower() for n in self.region_names]
        if not self.state.plain:
            names += ['neutron_central', 'tricircle']
        if self.state.db == 'sqlite':
            for name in names:
                path = os.path.join(self.data, name + '.sqlite')
                self.db_urls[name] = 'sqlite:///' + path
            return
        from tricircle.sandbox import postgres
        # Outside the state dir: the postgres user must be able to reach
        # it, and the state dir may sit under a 0700 home or tmp dir.
        pg_root = tempfile.mkdtemp(prefix='tricircle-pg-')
        os.chmod(pg_root, 0o755)
        pg = postgres.PostgresServer(os.path.join(pg_root, 'data'),
                                     processes.free_port())
        pg.init()
        pg.start()
        self.state.pids['postgres'] = pg.pid
        self.state.postgres = {'port': pg.port, 'data_dir': pg.data_dir,
                               'root': pg_root}
        self.state.logs['postgres'] = pg.log_path
        pg.wait_ready(30)
        for name in names:
            self.db_urls[name] = pg.create_database(name)

    def create_neutron_databases(self) -> None:
        neutron_names = [n for n in self.db_urls if n.startswith('neutron_')]
        if self.state.db == 'sqlite':
            # Build one schema, copy it: later regions are instant.
            template = os.path.join(self.data, 'neutron-template.sqlite')
            self._create_schemas({'template': 'sqlite:///' + template})
            for name in neutron_names:
                shutil.copyfile(template,
                                self.db_urls[name][len('sqlite:///'):])
            os.unlink(template)
        else:
            self._create_schemas({n: self.db_urls[n] for n in neutron_names})

    def _create_schemas(self, urls: dict[str, str]) -> None:
        log = os.path.join(self.logs, 'neutron-db.log')
        children = {name: neutron_db.run(
            neutron_conf.write_db_only(self.etc, name, url), log)
            for name, url in urls.items()}
        for name, child in children.items():
            if child.wait(timeout=120) != 0:
                raise processes.ProcessError(
                    'creating the Neutron schema %s failed; see %s:\n%s' % (
                        name, log, processes.tail(log)))

    def create_tricircle_database(self) -> None:
        url = self.db_urls['tricircle']
        self.state.tricircle_db = url
        conf = os.path.join(self.etc, 'tricircle.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\ntricircle_db_connection = %s\n' % url)
        log = os.path.join(self.logs, 'tricircle-db-manage.log')
        with open(log, 'ab') as out:
            rc = subprocess.call(
                [processes.console_script('tricircle-db-manage'),
                 '--config-file', conf, 'upgrade', 'head'],
                stdout=out, stderr=out)
        if rc:
            raise processes.ProcessError(
                'tricircle-db-manage upgrade failed; see %s:\n%s' % (
                    log, processes.tail(log)))
