"""Tables of the Tricircle DB (separate from the central Neutron DB).

Any change here needs a migration in ``tricircle/db/migration``; a unit
test fails while models and migrations disagree.
"""
from __future__ import annotations

import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

# Named constraints: migrations can address them, and both backends
# report the same name in errors.
NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

# resource_routings.id: BIGINT, but SQLite only auto-increments INTEGER.
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def utcnow() -> datetime.datetime:
    """Naive UTC, the convention of OpenStack databases."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    def to_dict(self) -> dict[str, Any]:
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}


class Pod(Base):
    """A Neutron region; az_name '' marks the central ("top") pod."""
    __tablename__ = 'pods'
    __table_args__ = (
        sa.UniqueConstraint('region_name'),
        # At most one central pod, enforced by the DB (no read-then-write).
        sa.Index('uq_pods_top_pod', 'az_name', unique=True,
                 sqlite_where=sa.text("az_name = ''"),
                 postgresql_where=sa.text("az_name = ''")),
    )

    pod_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    region_name: Mapped[str] = mapped_column(sa.String(255))
    pod_az_name: Mapped[Optional[str]] = mapped_column(sa.String(255))
    dc_name: Mapped[Optional[str]] = mapped_column(sa.String(255))
    az_name: Mapped[str] = mapped_column(sa.String(255))


class ResourceRouting(Base):
    """Top (central) resource -> its copy in a pod.

    bottom_id NULL means "being created": the unique key is the lock.
    """
    __tablename__ = 'resource_routings'
    __table_args__ = (
        sa.UniqueConstraint('top_id', 'pod_id', 'resource_type'),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True,
                                    autoincrement=True)
    top_id: Mapped[str] = mapped_column(sa.String(127))
    bottom_id: Mapped[Optional[str]] = mapped_column(sa.String(36),
                                                     index=True)
    # RESTRICT: a pod still holding resources must not vanish.
    pod_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey('pods.pod_id', ondelete='RESTRICT'),
        index=True)
    project_id: Mapped[Optional[str]] = mapped_column(sa.String(36),
                                                      index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow)
    updated_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime, onupdate=utcnow)


class AsyncJob(Base):
    """A registered (not yet logged) XJob job."""
    __tablename__ = 'async_jobs'
    __table_args__ = (
        # extra_id is the running-job lock: one RUNNING row per resource.
        sa.UniqueConstraint('type', 'status', 'resource_id', 'extra_id'),
        sa.Index('ix_async_jobs_type_resource_id', 'type', 'resource_id'),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[Optional[str]] = mapped_column(sa.String(36))
    type: Mapped[str] = mapped_column(sa.String(36))
    timestamp: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow, server_default=sa.func.now(),
        index=True)
    status: Mapped[str] = mapped_column(sa.String(36))
    resource_id: Mapped[str] = mapped_column(sa.String(127))
    extra_id: Mapped[Optional[str]] = mapped_column(sa.String(36))
    # Failed runs so far, the last error and when to retry (backoff).
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0,
                                          server_default='0')
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)
    next_run_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime)
    # The runner holding a RUNNING row (host:pid:thread), for operators.
    worker: Mapped[Optional[str]] = mapped_column(sa.String(255))
    # What the submitter had in hand (e.g. central's floating IP as just
    # committed): a run covering this request alone, first try, may take
    # it instead of reading it back (tricircle.db.jobs.Claim.hint).
    hint: Mapped[Optional[dict]] = mapped_column(sa.JSON)


class AsyncJobLog(Base):
    """Successful jobs, moved out of async_jobs."""
    __tablename__ = 'async_job_logs'

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[Optional[str]] = mapped_column(sa.String(36))
    resource_id: Mapped[str] = mapped_column(sa.String(127))
    type: Mapped[str] = mapped_column(sa.String(36))
    timestamp: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow, server_default=sa.func.now(),
        index=True)
    # Runs made, the one that succeeded included.
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0,
                                          server_default='0')


class ShadowAgent(Base):
    """An L2 agent of one pod, mirrored in central for l2pop."""
    __tablename__ = 'shadow_agents'
    # Per pod: two regions may well have hosts of the same name.
    __table_args__ = (sa.UniqueConstraint('pod_id', 'host', 'type'),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    pod_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey('pods.pod_id', ondelete='CASCADE'))
    host: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(36))
    tunnel_ip: Mapped[str] = mapped_column(sa.String(48))
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow)
    updated_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime, onupdate=utcnow)


class DeletingResource(Base):
    """A central delete in progress: regions must not re-create it."""
    __tablename__ = 'deleting_resources'

    resource_id: Mapped[str] = mapped_column(sa.String(127),
                                             primary_key=True)
    resource_type: Mapped[str] = mapped_column(sa.String(64),
                                               primary_key=True)
    deleted_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow)


class SyncState(Base):
    """How far one region's copy of a central resource has come.

    ``target_revision``: the central ``revision_number`` the copy must
    reach (the newest change central has queued for it);
    ``revision_number``: the central revision the copy was last brought
    to. ``state`` is one of tricircle.db.sync_states.STATES.
    """
    __tablename__ = 'sync_states'

    resource_type: Mapped[str] = mapped_column(sa.String(64),
                                               primary_key=True)
    resource_id: Mapped[str] = mapped_column(sa.String(127),
                                             primary_key=True)
    # A pod that goes takes its states with it.
    pod_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey('pods.pod_id', ondelete='CASCADE'),
        primary_key=True, index=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    revision_number: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    target_revision: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    # The copy's own revision_number when it was last found in line: a
    # drift audit compares no attributes while both numbers stand still.
    regional_revision: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow)
    updated_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime, default=utcnow, onupdate=utcnow)


class PodHealth(Base):
    """What XJob's last probe of a pod's Neutron found."""
    __tablename__ = 'pod_health'

    pod_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey('pods.pod_id', ondelete='CASCADE'),
        primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    # The last probe that got an answer, and the last probe at all.
    last_seen: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime)
    checked_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)


class DriftAudit(Base):
    """One pass of XJob's drift audit over every region.

    ``done``: the steps finished ("pod id/resource type"), so that a pass
    taken over from a dead daemon resumes where it stopped. ``found`` and
    ``repaired``: counts by kind of drift (tricircle.db.audits.KINDS).
    """
    __tablename__ = 'drift_audits'

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    worker: Mapped[Optional[str]] = mapped_column(sa.String(255))
    started_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime, default=utcnow, index=True)
    finished_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        sa.DateTime)
    checked: Mapped[int] = mapped_column(sa.Integer, default=0)
    done: Mapped[list] = mapped_column(sa.JSON, default=list)
    found: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    repaired: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    skipped_pods: Mapped[list] = mapped_column(sa.JSON, default=list)
