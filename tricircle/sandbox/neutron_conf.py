"""Configuration files for the sandbox's Neutron servers.

Every Neutron server reads the shared ``neutron.conf`` followed by its own
file (database, paths, core plugin, Tricircle options).
"""
from __future__ import annotations

import configparser
import os

CENTRAL = 'central'
LOCAL = 'local'
PLAIN = 'plain'

# Segment ranges: identical in central and every region, as Tricircle
# requires (a region re-creates a network with the central segment id).
# physnet3 is small on purpose: tests exhaust it. extnet (the outside
# world's, tricircle.sandbox.outside) has no range: provider VLAN
# networks on it name their segment, no tenant VLAN comes from it.
VLAN_RANGES = 'physnet1:100:199,physnet2:200:299,physnet3:300:303,extnet'
VNI_RANGES = '1000:1999'

_SHARED = {
    'DEFAULT': {
        'service_plugins': 'router',
        'auth_strategy': 'noauth',
        # In-process messaging: no broker; RPC casts go nowhere.
        'transport_url': 'fake:/',
        'allow_overlapping_ips': 'true',
        'notify_nova_on_port_status_changes': 'false',
        'notify_nova_on_port_data_changes': 'false',
        'dhcp_agent_notification': 'false',
        'debug': 'false',
        'use_stderr': 'true',
    },
    'oslo_policy': {'enforce_scope': 'false',
                    'enforce_new_defaults': 'false'},
    'agent': {'report_interval': '0'},
    'quotas': {q: '-1' for q in (
        'quota_network', 'quota_subnet', 'quota_port', 'quota_router',
        'quota_floatingip', 'quota_security_group',
        'quota_security_group_rule')},
    'ml2': {'type_drivers': 'local,flat,vlan,vxlan',
            'project_network_types': 'vxlan,local',
            'mechanism_drivers': 'openvswitch',
            'extension_drivers': 'port_security'},
    'ml2_type_flat': {'flat_networks': '*'},
    'ml2_type_vlan': {'network_vlan_ranges': VLAN_RANGES},
    'ml2_type_vxlan': {'vni_ranges': VNI_RANGES},
    'securitygroup': {'enable_security_group': 'true'},
}

# The Neutron API pipeline: the stock one with noauth or keystone.
API_PASTE = """\
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions_composite
/v2.0: neutronapi_v2_0

[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
noauth = cors http_proxy_to_wsgi request_id fake_project_id {source}catch_errors extensions neutronapiapp_v2_0
keystone = cors http_proxy_to_wsgi request_id catch_errors authtoken keystonecontext {source}extensions neutronapiapp_v2_0

[composite:neutronversions_composite]
use = call:neutron.auth:pipeline_factory
noauth = cors http_proxy_to_wsgi neutronversions
keystone = cors http_proxy_to_wsgi neutronversions

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = neutron

[filter:fake_project_id]
paste.filter_factory = neutron.auth:NoauthFakeProjectId.factory

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory

[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory

[filter:tricircle_source]
paste.filter_factory = tricircle.network.request_source:RequestSource.factory

[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory

[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
"""


def ini_parser(sections: dict[str, dict[str, str]]
               ) -> configparser.ConfigParser:
    """An oslo.config file's content, section by section."""
    parser = configparser.ConfigParser(interpolation=None)
    for name, values in sections.items():
        if name != 'DEFAULT':
            parser.add_section(name)
        for key, value in values.items():
            parser.set(name, key, value)
    return parser


def _write(path: str, sections: dict[str, dict[str, str]]) -> str:
    parser = ini_parser(sections)
    with open(path, 'w') as f:
        parser.write(f)
    return path


def write_shared(etc_dir: str) -> str:
    """Write the neutron.conf shared by all servers."""
    os.makedirs(etc_dir, exist_ok=True)
    return _write(os.path.join(etc_dir, 'neutron.conf'), _SHARED)


def write_paste(etc_dir: str, role: str) -> str:
    """The API pipeline; Tricircle servers mark requests from peers."""
    path = os.path.join(etc_dir, 'api-paste-%s.ini' % role)
    with open(path, 'w') as f:
        f.write(API_PASTE.format(
            source='' if role == PLAIN else 'tricircle_source '))
    return path


def write_server(etc_dir: str, name: str, role: str, db_url: str,
                 data_dir: str, tricircle_db_url: str | None = None,
                 central_url: str | None = None,
                 region_urls: dict[str, str] | None = None,
                 transport_url: str | None = None,
                 wake_url: str | None = None) -> str:
    """Write the per-server file for a central, local or plain Neutron.

    ``transport_url``: the region's RabbitMQ vhost, when Neutron's own
    agents serve it; the server then loads the OVS and L2 population
    mechanism drivers, and ``neutron-rpc-server`` reads this file too.
    ``wake_url``: central wakes the XJob daemons there when it submits a
    job.
    """
    os.makedirs(data_dir, exist_ok=True)
    sections: dict[str, dict[str, str]] = {
        'DEFAULT': {'state_path': data_dir, 'host': name,
                    'api_paste_config': write_paste(etc_dir, role)},
        'database': {'connection': db_url},
        'oslo_concurrency': {'lock_path': os.path.join(data_dir, 'lock')},
    }
    if role == CENTRAL:
        sections['DEFAULT']['core_plugin'] = 'tricircle_central'
        sections['DEFAULT']['tricircle_db_connection'] = tricircle_db_url
        sections['DEFAULT']['service_plugins'] = 'tricircle_central_l3'
        # No agents here: bindings are the ones regions report.
        sections['ml2'] = {'mechanism_drivers': 'tricircle_central'}
        sections['client'] = {'region_endpoints': ','.join(
            '%s:%s' % kv for kv in (region_urls or {}).items())}
        if wake_url:
            sections['xjob'] = {'transport_url': wake_url}
    elif role == LOCAL:
        sections['DEFAULT']['core_plugin'] = 'tricircle_local'
        sections['DEFAULT']['service_plugins'] = 'tricircle_local_l3'
        sections['tricircle'] = {'local_region_name': name}
        # Ports bind to the sandbox hosts (and shadow hosts) through the
        # agents the host agents report.
        sections['ml2'] = {'mechanism_drivers': 'tricircle_host'}
        sections['client'] = {'central_neutron_url': central_url}
    else:
        sections['DEFAULT']['core_plugin'] = 'ml2'
    if transport_url:
        sections['DEFAULT'].update({
            'transport_url': transport_url,
            # neutron-rpc-server: one worker serves agents' calls and
            # their state reports.
            'rpc_workers': '1', 'rpc_state_report_workers': '0'})
        # Neutron's own driver binds the hosts' ports; tricircle_host
        # after it binds shadow ports to their shadow agents.
        sections['ml2'] = {'mechanism_drivers': (
            'openvswitch,l2population' +
            (',tricircle_host' if role == LOCAL else ''))}
        sections['agent'] = {'report_interval': '10'}
    return _write(os.path.join(etc_dir, 'neutron-%s.conf' % name), sections)


def write_db_only(etc_dir: str, name: str, db_url: str) -> str:
    """A file with just the database, for neutron-db-manage."""
    return _write(os.path.join(etc_dir, 'neutron-db-%s.conf' % name),
                  {'database': {'connection': db_url}})
