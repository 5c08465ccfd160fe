"""Configuration options shared by the Tricircle processes.

Each process registers only the groups it reads: the central and local
plugins run inside a Neutron server, whose own ``[DEFAULT]`` options
(``bind_port``, ``auth_strategy`` ...) must not be redefined there.
"""
from __future__ import annotations

import itertools

from oslo_config import cfg

# The Tricircle DB is separate from Neutron's: the central plugin, the Admin
# API and XJob share it.
db_opts = [
    cfg.StrOpt('tricircle_db_connection',
               secret=True,
               help='SQLAlchemy URL of the Tricircle database (pods, '
                    'resource routings, async jobs), for example '
                    'postgresql+psycopg2://user:pw@127.0.0.1/tricircle or '
                    'sqlite:////var/lib/tricircle/tricircle.sqlite.'),
]

# The Admin API process (tricircle-api) only.
api_opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address the Admin API listens on.'),
    cfg.PortOpt('bind_port', default=19999,
                help='Port the Admin API listens on.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'validate tokens with keystonemiddleware'),
                        ('noauth', 'trust X-Project-Id/X-Roles headers; '
                                   'requests without them are admin')],
               help='How the Admin API authenticates callers.'),
    cfg.IntOpt('pagination_max_limit', default=2000, min=1,
               help='Largest page a list request returns; also the page '
                    'size when the request gives no or a non-positive limit.'),
]


# [xjob]: the job daemon and the library that submits jobs.
xjob_opts = [
    cfg.IntOpt('workers', default=4, min=1,
               help='Job runner threads in one tricircle-xjob process. '
                    'Use 3 or more: a router_setup waiting for a head '
                    'start of its router (router_interface_ahead) holds '
                    'one, and the jobs the head start asks for need '
                    'another.'),
    cfg.IntOpt('spare_workers', default=8, min=0,
               help='Most extra job runner threads started while workers '
                    'wait on calls to pods that the probe found down (a '
                    'hung Neutron answers only at neutron_timeout). The '
                    'other regions\' jobs then do not wait behind them. '
                    'Needs the pod probe (pod_probe_interval > 0).'),
    cfg.FloatOpt('poll_interval', default=0.5, min=0.01,
                 help='Seconds between looks for due jobs in the database '
                      'when no wake-up message arrives.'),
    cfg.FloatOpt('job_run_expire', default=180.0, min=1,
                 help='A RUNNING job not heard of for this many seconds '
                      'belongs to a dead runner and is taken over.'),
    cfg.FloatOpt('retry_interval', default=5.0, min=0,
                 help='Seconds before the first retry of a failed job; '
                      'doubles with every failure.'),
    cfg.FloatOpt('retry_max_interval', default=300.0, min=0,
                 help='Longest wait between two retries of a failed job.'),
    cfg.FloatOpt('pod_probe_interval', default=10.0, min=0,
                 help='Seconds between two looks at every pod\'s Neutron '
                      '(pod health: up or down, last seen). The jobs of a '
                      'pod that is down wait; a pod that comes back makes '
                      'the failed jobs due at once. 0 turns the probe '
                      'off.'),
    cfg.FloatOpt('pod_probe_timeout', default=3.0, min=0.1,
                 help='Seconds a pod\'s Neutron has to answer a probe '
                      'before the pod counts as down.'),
    cfg.FloatOpt('audit_interval', default=600.0, min=0,
                 help='Seconds between two passes of the drift audit, '
                      'which compares central with every region and '
                      'repairs what differs (through sync_resource jobs). '
                      'One pass runs at a time across all XJob daemons. '
                      '0 turns the audit off.'),
    cfg.IntOpt('audit_page_size', default=500, min=1,
               help='Resources per list request of the drift audit.'),
    cfg.FloatOpt('audit_repair_wait', default=60.0, min=0,
                 help='Seconds an audit step waits for its repair jobs '
                      'before counting them; those not done by then still '
                      'run, and are counted as found only.'),
    cfg.FloatOpt('gateway_setup_delay', default=2.0, min=0,
                 help='Seconds after a router\'s gateway head start '
                      '(router_gateway_ahead) set the gateway on the copy '
                      'in the external network\'s region, and the other '
                      'regions\' routes, before the router_setup run that '
                      'follows it reads central and every region. '
                      'Meanwhile that region\'s L3 and OVS agents build '
                      'the gateway; the run\'s reads would slow them down '
                      'where they share servers. Only a first try covering '
                      'one request, with central showing that gateway, is '
                      'put off; it still has the last word. 0 runs it at '
                      'once.'),
    cfg.ListOpt('job_modules', default=[],
                help='Extra Python modules defining job types (each with a '
                     'JOB attribute), beside those of the '
                     'tricircle.xjob.jobs entry points.'),
    cfg.StrOpt('transport_url', secret=True,
               help='oslo.messaging transport used to wake the job daemons '
                    'when a job is submitted. Without it the daemons poll '
                    'the database every poll_interval seconds.'),
    cfg.StrOpt('transit_cidr', default='100.64.0.0/10',
               help='Pool of the transit networks that join the copies of '
                    'a router in several regions (RFC 6598 shared address '
                    'space by default). Each router takes the first block '
                    'of transit_prefixlen bits overlapping none of its '
                    'subnets; blocks repeat across routers, whose transit '
                    'networks never meet.'),
    cfg.IntOpt('transit_prefixlen', default=28, min=8, max=29,
               help='Prefix length of one router\'s transit subnet: it '
                    'needs one address per region the router spans.'),
    cfg.StrOpt('service_project_id',
               help='Project owning the resources Tricircle makes for '
                    'itself on central (transit networks and ports). '
                    'Unset: the project of XJob\'s service user; required '
                    'when Neutron runs without Keystone.'),
]


def register_xjob_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    register_db_opts(conf)
    register_client_opts(conf)
    conf.register_opts(xjob_opts, group='xjob')


def register_db_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    conf.register_opts(db_opts)


def register_api_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    register_db_opts(conf)
    conf.register_opts(api_opts)


# [tricircle] in a regional Neutron server (local plugin).
local_plugin_opts = [
    cfg.StrOpt('local_region_name',
               help='Region name of this Neutron server, as registered in '
                    'the Admin API pods. Defaults to [nova] region_name.'),
    cfg.BoolOpt('propose_port_addresses', default=True,
                help='Create a new unbound port here and on central at '
                     'the same time: this region proposes its id, MAC and '
                     'an IPv4 address it sees free, central grants or '
                     'refuses them, and the port is returned only once '
                     'granted (a refused one is deleted here again). If '
                     'False, or when refused, the port is created on '
                     'central first and here after. Keep base_mac the same '
                     'in every Neutron server.'),
    cfg.IntOpt('proposal_min_free_addresses', default=32, min=1,
               help='Propose an address only while the subnet has at least '
                    'this many addresses free as seen from this region; '
                    'near exhaustion central picks every address.'),
]

# [client]: how Tricircle processes reach Neutron servers (central or local).
client_opts = [
    cfg.StrOpt('central_region_name', default='CentralRegion',
               help='Keystone region of the central Neutron server.'),
    cfg.URIOpt('central_neutron_url', schemes=['http', 'https'],
               deprecated_group='tricircle',
               help='URL of the central Neutron server. If unset the '
                    'endpoint of service type "network" in the region '
                    'central_region_name of the Keystone catalog is used.'),
    cfg.FloatOpt('neutron_timeout', default=30.0, min=0.1,
                 help='Seconds to wait for one Neutron API request.'),
    cfg.DictOpt('region_endpoints', default={},
                help='Neutron endpoint of each region, as '
                     'RegionOne:http://host:9696,RegionTwo:... . A region '
                     'not listed is looked up in the Keystone catalog.'),
    cfg.IntOpt('neutron_retries', default=3, min=0,
               help='Extra tries for a Neutron request that failed to '
                    'connect or got 502/503/504.'),
]
CLIENT_GROUP = 'client'

# [tricircle] in the central Neutron server: segment ranges that the
# central plugin allocates from, for every region. Unset options leave
# the [ml2*] option of the same meaning as it is.
central_plugin_opts = [
    cfg.ListOpt('project_network_types',
                deprecated_name='tenant_network_types',
                help='Network types for project networks, in order of '
                     'preference (vxlan, vlan, flat, local).'),
    cfg.ListOpt('network_vlan_ranges',
                help='physnet:vlan_min:vlan_max ranges (or bare physnet '
                     'names) for VLAN networks, identical in every region.'),
    cfg.ListOpt('vni_ranges',
                help='vni_min:vni_max ranges of VXLAN network ids, '
                     'identical in every region.'),
    cfg.ListOpt('flat_networks',
                help='Physical networks allowed for flat networks '
                     '("*" for any).'),
    cfg.FloatOpt('copy_delete_wait', default=5.0, min=0,
                 help='Seconds a network or subnet delete on central waits '
                      'for the regions to delete their copies. A region '
                      'still busy then, unreachable, or found down by '
                      'XJob\'s probe deletes its copy later through a '
                      'sync_resource job (its sync state says "deleting"); '
                      'the delete on central does not wait for it.'),
]
# [tricircle] option -> the ML2 option it sets.
_ML2_EQUIVALENT = {
    'project_network_types': ('ml2', 'project_network_types'),
    'network_vlan_ranges': ('ml2_type_vlan', 'network_vlan_ranges'),
    'vni_ranges': ('ml2_type_vxlan', 'vni_ranges'),
    'flat_networks': ('ml2_type_flat', 'flat_networks'),
}


def register_client_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    from keystoneauth1 import loading as ks_loading
    conf.register_opts(client_opts, group=CLIENT_GROUP)
    ks_loading.register_auth_conf_options(conf, CLIENT_GROUP)


def register_central_plugin_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    register_db_opts(conf)
    conf.register_opts(central_plugin_opts, group='tricircle')
    # [xjob] transport_url: the jobs central submits wake the daemons.
    register_xjob_opts(conf)


def apply_central_type_options(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    """Make ML2's type drivers allocate from the [tricircle] ranges."""
    from neutron.conf.plugins.ml2 import config as ml2_config
    from neutron.conf.plugins.ml2.drivers import driver_type
    ml2_config.register_ml2_plugin_opts(conf)
    driver_type.register_ml2_drivers_vlan_opts(conf)
    driver_type.register_ml2_drivers_vxlan_opts(conf)
    driver_type.register_ml2_drivers_flat_opts(conf)
    for name, (group, ml2_name) in _ML2_EQUIVALENT.items():
        value = conf.tricircle[name]
        if value is not None:
            conf.set_override(ml2_name, value, group=group)


def register_local_plugin_opts(conf: cfg.ConfigOpts = cfg.CONF) -> None:
    conf.register_opts(local_plugin_opts, group='tricircle')
    register_client_opts(conf)


def list_opts():
    """Entry point for oslo-config-generator."""
    return [('DEFAULT', itertools.chain(db_opts, api_opts)),
            ('tricircle', itertools.chain(local_plugin_opts,
                                          central_plugin_opts)),
            (CLIENT_GROUP, client_opts),
            ('xjob', xjob_opts)]
