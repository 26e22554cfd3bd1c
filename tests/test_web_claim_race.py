"""Claiming is atomic: 8 agents (threads, each with its own engine and connections) claim the same 20 cases
at the same moment; every case has exactly one winner, on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
from collections import Counter

from bot.storage.db import make_engine
from bot.web import store
from tests.web_support import START, add_case, add_staff, get_case, rows, staff_obj

AGENTS = 8
CASES = 20


def test_claim_race_has_exactly_one_winner(db_url):
    setup = make_engine(db_url)
    try:
        agents = [staff_obj(setup, add_staff(setup, f"agent{i}", "agent")) for i in range(AGENTS)]
        case_ids = [add_case(setup, priority="urgent") for _ in range(CASES)]
        barrier = threading.Barrier(AGENTS)
        wins: dict[int, list[int]] = {case_id: [] for case_id in case_ids}
        errors: list[BaseException] = []
        lock = threading.Lock()

        def agent_thread(agent: store.Staff) -> None:
            engine = make_engine(db_url)
            try:
                for case_id in case_ids:
                    barrier.wait(timeout=60)  # everyone clicks "claim" on this case at once
                    with engine.begin() as conn:
                        won = store.claim(conn, case_id, agent, START)
                    if won:
                        with lock:
                            wins[case_id].append(agent.id)
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()
            finally:
                engine.dispose()

        threads = [threading.Thread(target=agent_thread, args=(agent,)) for agent in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert all(len(winners) == 1 for winners in wins.values()), wins
        for case_id, (winner,) in wins.items():
            case = get_case(setup, case_id)
            assert (case["assigned_to"], case["status"], case["version"]) == (winner, "claimed", 2)
        claims = Counter(a.case_id for a in rows(setup, store.audit_t) if a.action == "claim")
        assert claims == Counter({case_id: 1 for case_id in case_ids})
    finally:
        setup.dispose()
