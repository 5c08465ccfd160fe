"""Admin API /v1.0/audits in-process on SQLite."""
from __future__ import annotations

from tricircle.db import audits
from tricircle.tests.unit.test_api_pods import MEMBER, call, error_type


def _pass(found: dict) -> str:
    audit = audits.resume_or_start('w')
    audits.step_done(audit['id'], 'pod/network', 4, found, found)
    audits.finish(audit['id'])
    return audit['id']


def test_passes_newest_first_with_totals(api_app):
    first = _pass({audits.DRIFTED: 2})
    second = _pass({audits.ORPHAN: 1})
    res = call(api_app, 'GET', '/v1.0/audits')
    assert res.status_int == 200, res.body
    listed = res.json['audits']
    assert [a['id'] for a in listed] == [second, first]
    assert listed[0]['state'] == 'finished'
    assert listed[0]['found'][audits.ORPHAN] == 1
    assert listed[0]['started_at'].endswith('+00:00')
    assert res.json['totals']['repaired'][audits.DRIFTED] == 2
    assert res.json['totals']['found'][audits.ORPHAN] == 1
    one = call(api_app, 'GET', '/v1.0/audits?limit=1').json['audits']
    assert [a['id'] for a in one] == [second]
    shown = call(api_app, 'GET', '/v1.0/audits/%s' % first)
    assert shown.json['audit']['checked'] == 4


def test_bad_requests_change_nothing(api_app):
    assert error_type(call(api_app, 'GET', '/v1.0/audits/nope')) == \
        'AuditNotFound'
    res = call(api_app, 'GET', '/v1.0/audits?limit=0')
    assert res.status_int == 400
    res = call(api_app, 'GET', '/v1.0/audits?since=1')
    assert res.status_int == 400
    assert call(api_app, 'GET', '/v1.0/audits/%s' % ('x' * 400)
                ).status_int == 404
    assert call(api_app, 'GET', '/v1.0/audits', headers=MEMBER
                ).status_int == 403
