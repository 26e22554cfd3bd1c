"""Crash tests: the bot process is killed with SIGKILL at each step between receiving an urgent message,
committing the case, answering the user and sending the staff alert, then restarted. The case exists
exactly once, the alert is sent exactly once, the user's acknowledgement is not lost (nor doubled).
On SQLite and on PostgreSQL, with the real NLU and a Bot API server on 127.0.0.1."""
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.db import CaseRow, InboxRow, OutboxRow, make_engine
from tests.botapi_server import BotAPIServer, text_update
from tests.botproc import BotProcess, wait_until

pytestmark = pytest.mark.rasa
STAFF = -100_999
USER = 6001


@pytest.mark.parametrize("point", ["received", "committed", "answered", "alerted"])
def test_killed_at_each_step_then_restarted(point, rasa_url, db_url, tmp_path):
    with BotAPIServer() as server:
        bot = BotProcess(server.base_url, rasa_url, db_url, staff_chat_id=str(STAFF), log_path=tmp_path / "bot.log")
        bot.start(SAFESAFAR_CRASH_AT=point)
        try:
            server.state.push(text_update(USER, "they locked my brother in a room in Tripoli, please help"))
            code = bot.wait(90)
            assert code == -9, f"the bot was not killed at {point}: exit {code}\n{bot.log()[-3000:]}"
            bot.start()  # the same database, no crash point

            def acknowledged_and_alerted():
                acks = [m for m in server.state.messages_to(USER) if "urgent case" in m.text]
                return acks and server.state.messages_to(STAFF)

            assert wait_until(acknowledged_and_alerted, 60), bot.log()[-3000:]
            time.sleep(2.0)  # anything sent twice would arrive by now
            acks = [m for m in server.state.messages_to(USER) if "urgent case" in m.text]
            alerts = server.state.messages_to(STAFF)
            assert len(acks) == 1, [m.text[:60] for m in server.state.messages_to(USER)]
            assert len(alerts) == 1, [m.text for m in alerts]
            engine = make_engine(db_url)
            with Session(engine) as session:
                cases = session.scalars(select(CaseRow)).all()
                assert len(cases) == 1 and cases[0].priority == "urgent"
                assert f"#{cases[0].id}" in alerts[0].text
                assert session.scalars(select(OutboxRow).where(OutboxRow.status != "sent")).all() == []
                assert {r.status for r in session.scalars(select(InboxRow))} == {"done"}
            engine.dispose()
            emergency = [m for m in server.state.messages_to(USER) if "1122" in m.text]
            assert len(emergency) == 1, "the emergency numbers reached the user once"
        finally:
            bot.stop()
