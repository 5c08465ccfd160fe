"""How a tempest run is counted and reported."""
from tricircle.sandbox import tempest

CSV = """\
test,status,start_time,stop_time
"tempest.api.network.test_networks.NetworksTest.test_list_networks[id-1,smoke]",success,a,b
tempest.api.network.test_networks.NetworksTest.test_show_network[id-2],fail,a,b
tempest.api.network.test_ports.PortsTest.test_create_port[id-3],skip,a,b
tempest.api.network.test_ports.PortsTest.test_update_port[id-4],xfail,a,b
setUpClass (tempest.api.network.test_routers.RoutersTest),fail,a,b
tempest.api.network.test_ports.PortsTest.test_bulk[id-5],exists,a,b
"""


def test_counts_real_tests_and_groups_failures_by_module():
    summary = tempest.summarize_csv(CSV)
    assert (summary['passed'], summary['failed'], summary['skipped']) == \
        (2, 2, 1)
    assert summary['failures'] == {
        'tempest.api.network.test_networks': [
            'tempest.api.network.test_networks.NetworksTest.'
            'test_show_network'],
        'tempest.api.network.test_routers': [
            'setUpClass (tempest.api.network.test_routers.RoutersTest)'],
    }


def test_summary_line_then_failures_by_module():
    text = tempest.format_summary(tempest.summarize_csv(CSV))
    lines = text.splitlines()
    assert lines[0] == '2 passed, 2 failed, 1 skipped'
    assert '  tempest.api.network.test_networks: 1 failed' in lines
    assert '    test_show_network' in lines


def test_no_failures_is_one_line():
    text = tempest.format_summary({'passed': 3, 'failed': 0, 'skipped': 0,
                                   'failures': {}})
    assert text == '3 passed, 0 failed, 0 skipped'
