"""The sandbox Keystone's files, without starting anything."""
from __future__ import annotations

import configparser
import os
import stat

from tricircle.sandbox import keystone as sb_keystone
from tricircle.sandbox import state as sb_state


def _ks(tmp_path) -> sb_keystone.SandboxKeystone:
    ks = sb_keystone.SandboxKeystone.create(str(tmp_path))
    ks.write_files()
    return ks


def _read(path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def _private(path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_passwords_are_random_and_reload(tmp_path):
    ks = _ks(tmp_path)
    assert set(ks.passwords) == {'admin', 'neutron', 'demo', 'alt_demo'}
    assert len(set(ks.passwords.values())) == 4
    assert all(len(p) >= 20 for p in ks.passwords.values())
    again = sb_keystone.SandboxKeystone.load(str(tmp_path))
    assert again.passwords == ks.passwords and again.url == ks.url
    assert sb_keystone.SandboxKeystone.create(
        str(tmp_path / 'x')).passwords != ks.passwords
    assert _private(os.path.join(ks.etc, 'keystone-credentials.json'))


def test_keystone_conf_keeps_everything_under_the_state_dir(tmp_path):
    ks = _ks(tmp_path)
    conf = _read(ks.conf_file)
    assert _private(ks.conf_file)
    assert conf['database']['connection'].startswith(
        'sqlite:///' + str(tmp_path))
    for section in ('fernet_tokens', 'credential'):
        assert conf[section]['key_repository'].startswith(str(tmp_path))
    assert conf['token']['provider'] == 'fernet'
    assert conf['cache']['backend'] == 'dogpile.cache.memory'
    assert conf['cache']['enabled'] == 'true'
    assert conf['DEFAULT']['debug'] == 'false'


def test_protect_neutron_local_server(tmp_path):
    ks = _ks(tmp_path)
    path = tmp_path / 'neutron-RegionOne.conf'
    path.write_text('[DEFAULT]\ncore_plugin = tricircle_local\n'
                    '[client]\ncentral_neutron_url = http://127.0.0.1:1\n')
    ks.protect_servers({'neutron-RegionOne': (
        ['python', '--config-file', 'shared.conf', '--config-file',
         str(path)], 'http://x', 'log')})
    conf = _read(path)
    assert _private(path)
    assert conf['DEFAULT']['auth_strategy'] == 'keystone'
    assert conf['DEFAULT']['core_plugin'] == 'tricircle_local'
    auth = conf['keystone_authtoken']
    assert auth['auth_type'] == 'password'
    assert auth['www_authenticate_uri'] == ks.url
    assert auth['auth_url'] == ks.url + '/v3'
    assert auth['username'] == 'neutron'
    assert auth['password'] == ks.passwords['neutron']
    assert auth['project_name'] == 'service'
    assert 'memcached_servers' not in auth
    client = conf['client']
    assert client['central_neutron_url'] == 'http://127.0.0.1:1'
    assert client['auth_type'] == 'password'
    assert client['username'] == 'neutron'
    assert client['password'] == ks.passwords['neutron']
    assert client['user_domain_name'] == 'Default'
    assert client['project_domain_name'] == 'Default'


def test_protect_admin_api_and_xjob(tmp_path):
    ks = _ks(tmp_path)
    api = tmp_path / 'tricircle-api.conf'
    api.write_text('[DEFAULT]\nauth_strategy = noauth\nbind_port = 1\n')
    xjob = tmp_path / 'tricircle-xjob.conf'
    xjob.write_text('[DEFAULT]\ntricircle_db_connection = sqlite://\n'
                    '[client]\nregion_endpoints = RegionOne:http://x\n')
    ks.protect_servers({
        'tricircle-api': (['tricircle-api', '--config-file', str(api)],
                          'http://x', 'log'),
        'tricircle-xjob': (['tricircle-xjob', '--config-file', str(xjob)],
                           None, 'log')})
    api_conf = _read(api)
    assert api_conf['DEFAULT']['auth_strategy'] == 'keystone'
    assert api_conf['keystone_authtoken']['username'] == 'neutron'
    assert not api_conf.has_section('client')
    xjob_conf = _read(xjob)
    assert 'auth_strategy' not in xjob_conf['DEFAULT']
    assert not xjob_conf.has_section('keystone_authtoken')
    assert xjob_conf['client']['auth_type'] == 'password'


def test_the_local_plugin_loads_the_client_credentials(tmp_path):
    """[client] as written loads a keystoneauth password plugin."""
    from keystoneauth1 import loading as ks_loading
    from oslo_config import cfg

    from tricircle.common import config
    ks = _ks(tmp_path)
    path = tmp_path / 'neutron-RegionOne.conf'
    path.write_text('[client]\ncentral_neutron_url = http://127.0.0.1:1\n')
    ks.protect(str(path), api_server=True)
    conf = cfg.ConfigOpts()
    config.register_client_opts(conf)
    conf(['--config-file', str(path)], project='neutron')
    auth = ks_loading.load_auth_from_conf_options(conf, config.CLIENT_GROUP)
    assert auth.auth_url == ks.url + '/v3'
    assert auth._username == 'neutron'
    assert auth._password == ks.passwords['neutron']
    assert auth._project_name == 'service'


def test_clouds(tmp_path):
    ks = _ks(tmp_path)
    state = sb_state.SandboxState(
        state_dir=str(tmp_path), central={'neutron': 'http://c'},
        regions={'RegionOne': {'neutron': 'http://1'},
                 'RegionTwo': {'neutron': 'http://2'}})
    path = ks.write_clouds_yaml(state)
    assert _private(path)
    import yaml
    with open(path) as f:
        text = f.read()
    clouds = yaml.safe_load(text)['clouds']
    assert '&id' not in text  # no YAML anchors: readable by hand
    assert set(clouds) == {'central', 'RegionOne', 'RegionTwo', 'demo',
                           'alt_demo'}
    assert clouds['central']['region_name'] == 'CentralRegion'
    assert clouds['RegionTwo']['region_name'] == 'RegionTwo'
    for name in ('central', 'RegionOne', 'RegionTwo'):
        assert clouds[name]['auth']['username'] == 'admin'
        assert clouds[name]['auth']['project_name'] == 'admin'
    for user in ('demo', 'alt_demo'):
        assert clouds[user]['auth']['username'] == user
        assert clouds[user]['auth']['project_name'] == user
        assert clouds[user]['auth']['password'] == ks.passwords[user]
        assert clouds[user]['region_name'] == 'CentralRegion'
        assert clouds[user]['regions'] == ['CentralRegion', 'RegionOne',
                                           'RegionTwo']
