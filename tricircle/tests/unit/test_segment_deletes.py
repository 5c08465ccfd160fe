"""A network delete uses Neutron's segments plugin without starting its
Nova notifier and host routes (which then act on every port and subnet
change), unless the operator configured that plugin."""
from __future__ import annotations

from neutron.services.segments import db as segments_db
from neutron.services.segments import plugin as segments_plugin
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from oslo_config import cfg
import pytest

from tricircle.network import segment_deletes


@pytest.fixture
def no_segments_plugin_yet(monkeypatch):
    # What a server has before its first network delete.
    monkeypatch.setattr(segments_db, 'segments_plugin', None)
    if 'service_plugins' not in cfg.CONF:
        cfg.CONF.register_opt(cfg.ListOpt('service_plugins', default=[]))


def _port_update_callbacks() -> int:
    return len(registry._get_callback_manager()._callbacks.get(
        resources.PORT, {}).get(events.AFTER_UPDATE, {}))


def test_network_deletes_get_a_plugin_without_the_notifiers(
        no_segments_plugin_yet, monkeypatch):
    monkeypatch.setattr(cfg.CONF, 'service_plugins', ['tricircle_local_l3'])
    before = _port_update_callbacks()
    segment_deletes.install()
    deleter = segments_db.segments_plugin
    assert isinstance(deleter, segments_plugin.Plugin)
    assert not hasattr(deleter, 'nova_updater')
    assert not hasattr(deleter, 'segment_host_routes')
    # Nothing was subscribed to port changes.
    assert _port_update_callbacks() == before


@pytest.mark.parametrize('name', [
    'segments', 'neutron.services.segments.plugin.Plugin'])
def test_a_configured_segments_plugin_is_left_to_neutron(
        no_segments_plugin_yet, monkeypatch, name):
    monkeypatch.setattr(cfg.CONF, 'service_plugins', ['router', name])
    segment_deletes.install()
    assert segments_db.segments_plugin is None


def test_the_plugin_neutron_would_make_starts_the_notifiers(monkeypatch):
    # Why the deleter exists: Neutron's own instance starts both.
    started = []
    for name in ('NovaSegmentNotifier', 'SegmentHostRoutes'):
        monkeypatch.setattr(segments_plugin, name,
                            lambda name=name: started.append(name))
    plugin = segments_plugin.Plugin()
    try:
        assert started == ['NovaSegmentNotifier', 'SegmentHostRoutes']
        started.clear()
        segment_deletes.SegmentDeleter()
        assert started == []
    finally:
        registry.unsubscribe_all(plugin)
