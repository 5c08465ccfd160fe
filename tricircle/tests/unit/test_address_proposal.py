"""How a region picks the address it proposes to central."""
import random

import pytest

from tricircle.network.local import address_proposal as ap

POOLS = [('10.0.0.2', '10.0.0.9'), ('10.0.0.20', '10.0.0.29')]


def test_picks_only_free_addresses_of_the_pools():
    taken = {'10.0.0.%d' % i for i in range(2, 10)} | {'10.0.0.25'}
    rng = random.Random(7)
    picked = {ap.pick_address(POOLS, taken, 1, rng) for _ in range(300)}
    assert picked == {'10.0.0.%d' % i for i in range(20, 30)} - {'10.0.0.25'}


def test_spreads_proposals_over_every_free_address():
    rng = random.Random(1)
    picked = [ap.pick_address(POOLS, set(), 1, rng) for _ in range(2000)]
    assert len(set(picked)) == 18
    # Concurrent requests rarely propose the same address: no favourite.
    assert max(picked.count(ip) for ip in set(picked)) < 2000 / 18 * 1.5


@pytest.mark.parametrize('free, min_free, proposes', [
    (18, 18, True), (18, 19, False), (0, 1, False)])
def test_no_proposal_near_exhaustion(free, min_free, proposes):
    all_ips = ['10.0.0.%d' % i for i in list(range(2, 10)) +
               list(range(20, 30))]
    taken = set(all_ips[free:])
    assert (ap.pick_address(POOLS, taken, min_free) is not None) == proposes


def _grant(result=None, error=None):
    import concurrent.futures
    future = concurrent.futures.Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
    proposal = ap.Proposal('p1', 's1', '10.0.0.5', 'fa:16:3e:00:00:01')
    return ap.Grant(proposal, future)


LOCAL = {'id': 'p1', 'mac_address': 'fa:16:3e:00:00:01',
         'fixed_ips': [{'subnet_id': 's1', 'ip_address': '10.0.0.5'}],
         'security_groups': ['sg1']}


def test_granted_when_central_made_the_same_port():
    central = dict(LOCAL, name='x', security_groups=['sg1'])
    assert _grant(central).wait(LOCAL) is central


@pytest.mark.parametrize('change', [
    {'id': 'other'}, {'mac_address': 'fa:16:3e:00:00:02'},
    {'fixed_ips': LOCAL['fixed_ips'] + [{'subnet_id': 's6',
                                         'ip_address': 'fd00::5'}]},
    {'security_groups': ['sg2']}])
def test_refused_when_central_made_another_port(change):
    grant = _grant(dict(LOCAL, **change))
    with pytest.raises(ap.Refused) as err:
        grant.wait(LOCAL)
    assert not err.value.address_taken
    # ... and that port is withdrawn by the caller.
    assert grant.created_port()['id'] == change.get('id', 'p1')


def test_refusal_says_whether_the_address_is_taken():
    from tricircle.resources import neutron_client as nc
    taken = nc.RemoteConflict(server='central', status=409,
                              reason='IpAddressAlreadyAllocated: in use')
    quota = nc.RemoteConflict(server='central', status=409,
                              reason='OverQuota: too many ports')
    for error, expected in ((taken, True), (quota, False)):
        grant = _grant(error=error)
        with pytest.raises(ap.Refused) as err:
            grant.wait(LOCAL)
        assert err.value.address_taken is expected
        assert grant.created_port() is None


def test_other_central_errors_are_not_refusals():
    from tricircle.resources import neutron_client as nc
    grant = _grant(error=nc.RemoteUnavailable(server='central', status=503,
                                              reason='down'))
    with pytest.raises(nc.RemoteUnavailable):
        grant.wait(LOCAL)
