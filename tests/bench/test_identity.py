"""The benchmark's exactly-once check: the SendGrid server's bitmaps of the ids it accepted, read over HTTP, against
the ids the database says were accepted (bench/identity.py)."""

from __future__ import annotations

import json
import urllib.request

from bench.identity import compare, describe, lowest
from tests.sendgrid_server import API_KEY, IdSet, SendGridServer


def post(server: SendGridServer, ids: list[int], arg: str = "delivery_id") -> int:
    """One /v3/mail/send request with a personalization per id; the HTTP status."""
    body = {
        "personalizations": [
            {"to": [{"email": f"person{i}-{n}@example.org"}], "custom_args": {arg: str(i), "step": "1"}}
            for n, i in enumerate(ids)
        ],
        "from": {"email": "news@agape.example"},
        "subject": "Lesson",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    request = urllib.request.Request(
        f"{server.url}/v3/mail/send",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status


def received(server: SendGridServer) -> dict:
    with urllib.request.urlopen(f"{server.url}/_test/ids", timeout=10) as r:
        return json.loads(r.read())


def bitmap(ids: range | list[int]) -> int:
    return sum(1 << i for i in ids)


def test_each_email_received_once_passes_by_identity() -> None:
    with SendGridServer(light=True) as server:
        for start in range(1, 3001, 1000):
            assert post(server, list(range(start, start + 1000))) == 202
        report = compare(bitmap(range(1, 3001)), received(server), 3000)
    assert report["ok"] and report["received"] == 3000 and report["duplicated"] == 0
    assert server.sent == [] and server.exchanges == []  # light: nothing kept but counts and ids
    assert describe(report, 3000) is None


def test_a_duplicate_and_a_missing_email_fail_though_the_count_matches() -> None:
    with SendGridServer(light=True) as server:
        post(server, [1, 2, 3, 4])
        post(server, [3])  # 3 twice, 5 never: five emails arrived, as many as expected
        report = compare(bitmap([1, 2, 3, 4, 5]), received(server), 5)
        count = json.loads(urllib.request.urlopen(f"{server.url}/_test/count", timeout=10).read())
    assert count["emails"] == 5 and count["requests"] == 2
    assert not report["ok"]
    assert (report["missing"], report["duplicated"], report["extra_copies"]) == (1, 1, 1)
    assert report["examples"] == {"missing": [5], "duplicated": [3]}
    message = describe(report, 5)
    assert message and "1 missing (delivery_id 5)" in message and "1 duplicated (delivery_id 3)" in message


def test_ids_the_database_never_recorded_and_emails_without_an_id_fail() -> None:
    with SendGridServer(light=True, id_arg="enrollment_id") as server:
        post(server, [1, 2, 9], arg="enrollment_id")
        post(server, [4], arg="delivery_id")  # no enrollment_id: an email the check cannot account for
        report = compare(bitmap([1, 2]), received(server), 2)
    assert report["id"] == "enrollment_id"
    assert (report["unexpected"], report["unidentified"], report["ok"]) == (1, 1, False)
    assert report["examples"] == {"unexpected": [9]}


def test_a_million_ids_stay_small() -> None:
    ids = IdSet()
    for n in range(1, 1_000_001):
        ids.add(n)
    assert len(ids) == 1_000_000 and ids.duplicates == 0
    assert len(ids.seen) + len(ids.again) <= 2 * 2**17  # two bitmaps of 128 KB at most
    assert 1 in ids and 0 not in ids and 1_000_001 not in ids
    assert not ids.add(-1) and not ids.add(IdSet.LIMIT)  # out of range: refused, the bitmaps do not grow
    assert lowest(IdSet.bits(ids.to_json()["seen"]), 3) == [1, 2, 3]
