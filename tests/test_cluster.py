"""The scale-out topology end to end: scripts/cluster.sh starts PostgreSQL, two Rasa servers, two bot
workers in webhook mode, the staff console and nginx (TLS, a self-signed certificate), all on 127.0.0.1.
The tests' Bot API server plays Telegram: it POSTs bursts of updates to nginx's webhook URL (trusting
the generated certificate), nginx spreads them over the workers, and one worker is killed with SIGKILL
mid-run and started again (`cluster.sh up` is idempotent). Each user asks a question, walks through
the offer check (a state machine: one turn per question) and half of them then report an emergency.

What must hold afterwards: every update applied exactly once, each user's turns in the order sent; the
offer check's final state holds every answer; every reply and every staff alert sent once.

The scenario runs once (one cluster start costs ~40 s); the tests below check its outcome. PostgreSQL
only: the topology is the production one."""
from __future__ import annotations

import collections
import re
import ssl
import time
from dataclasses import dataclass, field

import pytest

from tests.conftest import TEST_DATABASES

pytestmark = [pytest.mark.rasa,
              pytest.mark.skipif("postgresql" not in TEST_DATABASES, reason="the cluster runs on PostgreSQL")]

USERS = range(8101, 8107)  # six users
STAFF = -100_8100
BURST = 5  # updates per user pushed at once
URGENT = "they locked my brother in a room in Tripoli, please help"
QUESTION = re.compile(r"^Question (\d+) of (\d+)")


@dataclass
class Outcome:
    cluster: object
    server: object
    sent: dict[int, list[str]]  # per user, what each update was (its text or button data), in order
    expected_answers: dict[int, dict[str, str]]
    urgent_users: list[int]
    killed_pid: int
    restarted_pid: int
    console_login: object
    webhook_refusals: tuple[int, int]  # a POST with a wrong secret token, a GET
    status_output: str
    rows: dict = field(default_factory=dict)


def job_questions() -> list[str]:
    from bot.config import ROOT
    from bot.dialogue.content import ContentStore
    from bot.dialogue.offer_check import OfferCheck

    check = OfferCheck(ContentStore(ROOT / "content").get().offer_check)
    return [q.id for q in check.applicable("job")]


def press(uid: int, data: str) -> dict:
    from tests.botapi_server import SentMessage, button_update

    # the message the button hangs under: only its chat matters to the bot
    return button_update(uid, data, SentMessage(uid, "", None, 1, 0.0))


def script(uid: int, questions: list[str]) -> tuple[list[dict], list[str], dict[str, str]]:
    from tests.botapi_server import text_update

    answers = {q: ("yes", "no", "unsure")[(uid + i) % 3] for i, q in enumerate(questions)}
    steps: list[tuple[dict, str]] = [(text_update(uid, "what is human trafficking"), "what is human trafficking"),
                                     (text_update(uid, "/check"), "/check"), (press(uid, "oc:kind:job"), "oc:kind:job")]
    steps += [(press(uid, f"oc:{answer}:{q}"), f"oc:{answer}:{q}") for q, answer in answers.items()]
    if uid % 2 == 0:
        steps.append((text_update(uid, URGENT), URGENT))
    return [u for u, _ in steps], [s for _, s in steps], answers


def _finished(engine, total: int) -> bool:
    from sqlalchemy import func, select

    from bot.storage.db import InboxRow, OutboxRow

    with engine.connect() as conn:
        done = conn.execute(select(func.count()).select_from(InboxRow).where(InboxRow.status == "done")).scalar()
        pending = conn.execute(select(func.count()).select_from(OutboxRow)
                               .where(OutboxRow.status != "sent")).scalar()
    return done >= total and pending == 0


def _marked_sent(engine) -> int:
    from sqlalchemy import func, select

    from bot.storage.db import OutboxRow

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "sent")).scalar()


@pytest.fixture(scope="module")
def outcome():
    import httpx
    from sqlalchemy import select

    from bot.storage.db import CaseRow, ConversationRow, InboxRow, MessageRow, OutboxRow, UserRow, make_engine
    from tests.botapi_server import BotAPIServer, text_update
    from tests.botproc import wait_until
    from tests.cluster_support import Cluster

    questions = job_questions()
    plans = {uid: script(uid, questions) for uid in USERS}
    total = sum(len(updates) for updates, _, _ in plans.values())
    server = BotAPIServer(webhook_ca=None)
    with server:
        cluster = Cluster(server.base_url, workers=2, rasa=2, staff_chat_id=str(STAFF))
        server.sender.verify = str(cluster.certificate)  # made by `up`; read at the first delivery
        try:
            cluster.up()
            engine = make_engine(cluster.database_url)
            killed = restarted = 0
            rounds = max(len(updates) for updates, _, _ in plans.values())
            for start in range(0, rounds, BURST):
                for uid, (updates, _, _) in plans.items():
                    for update in updates[start:start + BURST]:
                        server.state.push(update)
                if start == 0:
                    # mid-burst: some turns answered, others still on their way through worker 1
                    wait_until(lambda: len(server.state.sent) >= 8, 60, 0.01)
                    # no send of worker 1 may be caught between Telegram's answer and the commit of its
                    # "sent" mark: a message sent then is sent again after the restart (nothing can tell
                    # whether Telegram got it). So for a moment Telegram takes no message (the workers
                    # retry them later) until every message it took is marked sent in the outbox; updates
                    # still arrive and turns still commit meanwhile
                    server.state.dropping.add("sendMessage")
                    wait_until(lambda: _marked_sent(engine) >= len(server.state.sent), 30, 0.05)
                    killed = cluster.kill("bot1")
                    server.state.dropping.discard("sendMessage")
                elif start == BURST:
                    # nginx passes the webhook to worker 2 meanwhile; then `up` starts worker 1 again
                    wait_until(lambda: server.state.undelivered() == 0, 60, 0.05)
                    cluster.up()
                    restarted = cluster.pid("bot1")
                else:
                    time.sleep(0.5)
            finished = wait_until(lambda: server.state.undelivered() == 0 and _finished(engine, total), 180, 0.25)
            assert finished, f"not finished in time\n{cluster.logs()}"
            time.sleep(2.0)  # anything sent twice arrives by now
            with httpx.Client(verify=ssl.create_default_context(cafile=str(cluster.certificate))) as client:
                login = client.get(f"{cluster.url}/login")
                forged = client.post(f"{cluster.url}/telegram", json=text_update(USERS[0], "hello"),
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "not the secret"})
                webhook_get = client.get(f"{cluster.url}/telegram")
            status = cluster.run("status").stdout
            with engine.connect() as conn:
                users = {int(row.external_id): row.id for row in conn.execute(select(UserRow))}
                rows = {
                    "inbox": list(conn.execute(select(InboxRow.update_id, InboxRow.status))),
                    "incoming": {uid: [r.text for r in conn.execute(
                        select(MessageRow.text).where(MessageRow.user_id == users.get(uid), MessageRow.direction == "in")
                        .order_by(MessageRow.id))] for uid in USERS},
                    "states": {uid: conn.execute(select(ConversationRow.flow, ConversationRow.data)
                                                 .where(ConversationRow.user_key == f"tg:{uid}")).one() for uid in USERS},
                    "outbox": list(conn.execute(select(OutboxRow.kind, OutboxRow.chat_id, OutboxRow.status))),
                    "cases": list(conn.execute(select(CaseRow.id, CaseRow.user_id, CaseRow.priority))),
                    "users": users,
                }
            engine.dispose()
            yield Outcome(cluster, server, {uid: plan[1] for uid, plan in plans.items()},
                          {uid: plan[2] for uid, plan in plans.items()}, [uid for uid in USERS if uid % 2 == 0],
                          killed, restarted, login, (forged.status_code, webhook_get.status_code), status, rows)
        finally:
            cluster.down()
            cluster.remove()


def test_the_topology_runs_behind_nginx_with_tls(outcome):
    cluster = outcome.cluster
    for name in ("rasa1", "rasa2", "bot1", "bot2", "console", "nginx", "postgres"):
        assert re.search(rf"^{name}\s+running", outcome.status_output, re.M), outcome.status_output
    # the console through nginx, over TLS that the client checked against the generated certificate
    assert outcome.console_login.status_code == 200 and "password" in outcome.console_login.text.lower()
    # a forged update (wrong secret token) is refused by the worker behind nginx; nginx takes only POSTs
    assert outcome.webhook_refusals == (403, 403)
    # nginx spread the webhook over both workers
    upstreams = {address for _, addresses in cluster.webhook_upstreams() for address in addresses.split(", ")}
    assert {f"127.0.0.1:{cluster.bot_port(1)}", f"127.0.0.1:{cluster.bot_port(2)}"} <= upstreams
    # worker 1 was killed (no process left with that pid) and a new one took its place
    assert outcome.killed_pid and outcome.restarted_pid and outcome.killed_pid != outcome.restarted_pid


def test_every_update_applied_exactly_once(outcome):
    pushed = {d.update_id for d in outcome.server.state.deliveries}
    inbox = outcome.rows["inbox"]
    assert {row.update_id for row in inbox} == pushed and {row.status for row in inbox} == {"done"}
    for uid, sent in outcome.sent.items():
        incoming = outcome.rows["incoming"][uid]
        assert collections.Counter(incoming) == collections.Counter(sent), f"user {uid}: turns lost or applied twice"


def test_each_users_turns_applied_in_order(outcome):
    """Needs a user's turns serialised across processes, in the order they arrived (the storage work of
    issue 15): two workers must never run one user's turns at once or out of order."""
    for uid, sent in outcome.sent.items():
        assert outcome.rows["incoming"][uid] == sent, f"user {uid}: turns applied out of order"


def test_no_conversation_state_lost(outcome):
    """The offer check's result is the last step of a state machine of one turn per question: it holds every answer
    only if no turn started from a stale state."""
    for uid, expected in outcome.expected_answers.items():
        flow, data = outcome.rows["states"][uid]
        assert flow is None, f"user {uid}: the check did not end: {flow}"
        assert data["last_offer_check"]["answers"] == expected, f"user {uid}: answers lost"


def test_every_reply_and_alert_sent_once(outcome):
    state = outcome.server.state
    outbox = outcome.rows["outbox"]
    assert {row.status for row in outbox} == {"sent"}
    per_chat = collections.Counter(row.chat_id for row in outbox)
    for uid in outcome.sent:
        texts = [m.text for m in state.messages_to(uid)]
        # one sendMessage per outbox row (these replies are far below Telegram's length limit)
        assert len(texts) == per_chat[str(uid)], (f"user {uid}: {len(texts)} sent, {per_chat[str(uid)]} stored: "
                                                  f"{[text[:50] for text in texts]}")
        numbers = [int(m.group(1)) for m in map(QUESTION.match, texts) if m]
        total = len(outcome.expected_answers[uid])
        assert sorted(numbers) == list(range(1, total + 1)), f"user {uid}: questions {numbers}"
        assert sum("What to do next:" in text for text in texts) == 1, f"user {uid}: the check's result"
    alerts = [m.text for m in state.messages_to(STAFF)]
    cases = outcome.rows["cases"]
    urgent_user_ids = {outcome.rows["users"][uid] for uid in outcome.urgent_users}
    assert sorted(c.user_id for c in cases) == sorted(urgent_user_ids)
    assert {c.priority for c in cases} == {"urgent"}
    assert len(alerts) == len(cases) == per_chat[str(STAFF)]
    assert sorted(int(re.search(r"#(\d+)", text).group(1)) for text in alerts) == sorted(c.id for c in cases)
    for uid in outcome.urgent_users:
        acks = [m for m in state.messages_to(uid) if "urgent case" in m.text]
        assert len(acks) == 1, f"user {uid}: {len(acks)} acknowledgements"
