"""Central's [tricircle] segment options set ML2's, under Neutron's
current names (the original's ``tenant_network_types`` still reads)."""
from __future__ import annotations

from oslo_config import cfg
import pytest

from tricircle.common import config


def _conf(tmp_path, body: str) -> cfg.ConfigOpts:
    path = tmp_path / 'central.conf'
    path.write_text(body)
    conf = cfg.ConfigOpts()
    config.register_central_plugin_opts(conf)
    conf(['--config-file', str(path)])
    config.apply_central_type_options(conf)
    return conf


@pytest.mark.parametrize('name', ['project_network_types',
                                  'tenant_network_types'])
def test_network_types_reach_ml2(tmp_path, name):
    conf = _conf(tmp_path, '[tricircle]\n%s = vlan,vxlan\n'
                           'vni_ranges = 1000:1999\n' % name)
    assert conf.ml2.project_network_types == ['vlan', 'vxlan']
    assert conf.ml2_type_vxlan.vni_ranges == ['1000:1999']


def test_unset_options_leave_ml2s_own(tmp_path):
    conf = _conf(tmp_path, '[ml2]\nproject_network_types = local\n'
                           '[tricircle]\n')
    assert conf.ml2.project_network_types == ['local']
