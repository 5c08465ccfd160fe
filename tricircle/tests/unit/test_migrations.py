"""Migrations on SQLite and PostgreSQL: they build exactly the models."""
from __future__ import annotations

import os
import subprocess

import sqlalchemy as sa

from tricircle.db import core
from tricircle.db import models
from tricircle.db.migration import cli as migration
from tricircle.tests.unit.conftest import BIN_DIR

TABLES = sorted(models.Base.metadata.tables)


def _db_manage(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    conf = tmp_path / 'tricircle.conf'
    conf.write_text('[DEFAULT]\ntricircle_db_connection = %s\n' % url)
    return subprocess.run(
        [os.path.join(BIN_DIR, 'tricircle-db-manage'), '--config-file',
         str(conf), *args], capture_output=True, text=True, timeout=120,
        check=True)


def test_db_manage_upgrade_current_downgrade(db_url, tmp_path):
    head = migration.head()
    out = _db_manage(tmp_path, db_url, 'current').stdout
    assert out.startswith('None')
    _db_manage(tmp_path, db_url, 'upgrade')
    assert _db_manage(tmp_path, db_url, 'current').stdout.strip() == (
        '%s (head)' % head)
    assert migration.table_names(db_url) == sorted(TABLES +
                                                   ['alembic_version'])
    _db_manage(tmp_path, db_url, 'upgrade', 'head')  # idempotent
    _db_manage(tmp_path, db_url, 'downgrade', 'base')
    assert migration.table_names(db_url) == ['alembic_version']
    assert migration.current(db_url) is None


def test_models_match_migrations(db_url):
    migration.upgrade(db_url)
    assert migration.compare(db_url) == []


def test_compare_sees_drift(db_url):
    # Guards the test above against comparing nothing.
    migration.upgrade(db_url)
    engine = core.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text('DROP INDEX ix_resource_routings_bottom_id'))
    finally:
        engine.dispose()
    diff = migration.compare(db_url)
    assert [d[0] for d in diff] == ['add_index']
    assert diff[0][1].name == 'ix_resource_routings_bottom_id'


def test_db_manage_needs_a_connection(tmp_path):
    conf = tmp_path / 'empty.conf'
    conf.write_text('[DEFAULT]\n')
    proc = subprocess.run(
        [os.path.join(BIN_DIR, 'tricircle-db-manage'), '--config-file',
         str(conf), 'upgrade'], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert 'tricircle_db_connection' in proc.stderr


def test_revision_autogenerate_writes_nothing_to_do(db_url, tmp_path,
                                                     monkeypatch):
    """``revision --autogenerate`` against an up-to-date DB: empty script."""
    from alembic import command
    migration.upgrade(db_url)
    versions = os.path.join(os.path.dirname(migration.__file__),
                            'alembic_migrations', 'versions')
    real_revision = command.revision
    written = {}

    def revision_in_tmp(config, message, autogenerate):
        # Write into a temporary versions dir: the package stays clean.
        config.set_main_option('version_locations',
                               os.pathsep.join([versions, str(tmp_path)]))
        script = real_revision(config, message=message,
                               autogenerate=autogenerate,
                               version_path=str(tmp_path))
        written['path'] = script.path
    monkeypatch.setattr(command, 'revision', revision_in_tmp)
    migration.revision(db_url, 'no change', autogenerate=True)
    assert os.path.dirname(written['path']) == str(tmp_path)
    text = open(written['path']).read()
    upgrade = text[text.index('def upgrade'):text.index('def downgrade')]
    assert 'op.' not in upgrade and 'pass' in upgrade
    assert "down_revision = '%s'" % migration.head() in text


def test_old_job_types_become_sync_resource(db_url):
    """Jobs queued by a release with per-type update jobs still run."""
    migration.upgrade(db_url, '7c1d4b2e8f31')
    engine = sa.create_engine(db_url)
    rows = [('j1', 'update_network', 'pod1#net1', 'NEW'),
            ('j2', 'update_subnet', 'pod1#sub1', 'FAIL'),
            ('j3', 'update_port', 'pod2#port1', 'NEW'),
            ('j4', 'port_delete', 'pod2#port2', 'NEW'),
            ('j5', 'shadow_port_setup', 'net1', 'NEW')]
    with engine.begin() as conn:
        for job_id, job_type, res_id, status in rows:
            conn.execute(sa.text(
                'INSERT INTO async_jobs (id, type, resource_id, status, '
                'timestamp, attempts) VALUES (:id, :type, :res, :status, '
                ':ts, 0)'), {'id': job_id, 'type': job_type, 'res': res_id,
                             'status': status, 'ts': '2026-11-30 10:00:00'})
        conn.execute(sa.text(
            "INSERT INTO async_job_logs (id, type, resource_id, timestamp, "
            "attempts) VALUES ('l1', 'update_port', 'pod1#port9', "
            "'2026-11-30 10:00:00', 2)"))
    migration.upgrade(db_url, 'head')
    with engine.connect() as conn:
        jobs = {r.id: (r.type, r.resource_id) for r in conn.execute(
            sa.text('SELECT id, type, resource_id FROM async_jobs'))}
        log = conn.execute(sa.text(
            'SELECT type, resource_id, attempts FROM async_job_logs')).one()
    engine.dispose()
    assert jobs == {
        'j1': ('sync_resource', 'pod1#network#net1'),
        'j2': ('sync_resource', 'pod1#subnet#sub1'),
        'j3': ('sync_resource', 'pod2#port#port1'),
        'j4': ('sync_resource', 'pod2#port#port2'),
        'j5': ('shadow_port_setup', 'net1')}
    # A logged job's attempts count its successful run too.
    assert tuple(log) == ('sync_resource', 'pod1#port#port9', 3)
