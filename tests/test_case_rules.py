"""The case rules (bot/hotline/cases.py) on an in-memory repository: no database, milliseconds. The same
rules on SQLite and PostgreSQL: test_hotline.py (the bot), test_web_cases.py and test_web_claim_race.py
(the console), test_turn_order.py and test_crash.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from bot.hotline import cases
from bot.hotline.cases import CaseError, Escalation, Not, NotFound, OneOf, UserMessage

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@dataclass
class Person:
    id: int
    username: str
    role: str = "agent"
    active: bool = True


class MemoryCases:
    """CaseRepository in dicts, with the same contract as storage/cases.py: conditional updates that
    report whether they applied, one open case per user."""

    def __init__(self):
        self.cases: dict[int, dict] = {}
        self.messages: list[dict] = []
        self.notes: list[dict] = []
        self.outbox: list[dict] = []
        self.audits: list[tuple] = []
        self.people: dict[int, Person] = {}
        self.chats: dict[int, str] = {}

    def open_case_of_user(self, user_id):
        return next((dict(c) for c in self.cases.values() if c["user_id"] == user_id and c["status"] != "resolved"),
                    None)

    def get_case(self, case_id):
        case = self.cases.get(case_id)
        if case is None:
            return None
        holder = self.people.get(case["assigned_to"])
        return {**case, "assignee_username": holder.username if holder else None}

    def recent_messages(self, user_id, since, limit):
        return [m for m in self.messages if m["user_id"] == user_id and m["created_at"] >= since][-limit:]

    def insert_case(self, values):
        assert self.open_case_of_user(values["user_id"]) is None, "one open case per user"
        case_id = len(self.cases) + 1
        self.cases[case_id] = {"first_response_at": None, "resolved_at": None, **values, "id": case_id}
        return case_id

    def update_case(self, case_id, values, expect=None):
        case = self.cases.get(case_id)
        if case is None:
            return False
        for name, expected in (expect or {}).items():
            value = case[name]
            if isinstance(expected, OneOf):
                ok = value in expected.values
            elif isinstance(expected, Not):
                ok = value != expected.value
            else:
                ok = value == expected
            if not ok:
                return False
        case.update(values, version=case["version"] + 1)
        return True

    def add_message(self, values):
        self.messages.append(values)
        return len(self.messages)

    def add_note(self, values):
        self.notes.append(values)
        return len(self.notes)

    def add_outbox(self, values):
        self.outbox.append(values)
        return len(self.outbox)

    def audit(self, at, actor, action, case_id, staff_id, detail):
        self.audits.append((actor, action, case_id, detail))

    def staff(self, staff_id):
        return self.people.get(staff_id)

    def chat_id(self, user_id):
        return self.chats.get(user_id)

    def other_open_case(self, user_id, case_id):
        return next((c["id"] for c in self.cases.values()
                     if c["user_id"] == user_id and c["id"] != case_id and c["status"] != "resolved"), None)


class Text:
    def alert(self, case_id, priority, summary_line, raised):
        return {"text": f"alert {case_id} {priority} {raised}"}

    def staff_reply(self, language, text):
        return {"text": f"[{language}] {text}"}


@pytest.fixture
def repo() -> MemoryCases:
    repo = MemoryCases()
    repo.people = {1: Person(1, "amina"), 2: Person(2, "bilal"), 3: Person(3, "sana", "supervisor"),
                   4: Person(4, "erum", "editor"), 5: Person(5, "gone", active=False)}
    repo.chats = {10: "1010"}
    return repo


def message(escalation=None, entities=(), **extra) -> UserMessage:
    return UserMessage(10, "ur", list(entities), escalation, **extra)


def open_case(repo, priority="normal", reason="human") -> int:
    return cases.user_message(repo, message(Escalation(priority, reason)), NOW).case_id


def test_a_first_escalation_opens_a_case_with_the_transcript_and_alerts_only_urgent_and_high(repo):
    repo.messages.append({"user_id": 10, "direction": "in", "kind": "text", "text": "job in Libya?",
                          "meta": {"entities": [{"entity": "country", "value": "Libya"}]},
                          "created_at": NOW - timedelta(minutes=3)})
    repo.messages.append({"user_id": 10, "direction": "in", "kind": "text", "text": "long ago", "meta": {},
                          "created_at": NOW - timedelta(days=8)})
    step = cases.user_message(repo, message(Escalation("normal", "human")), NOW)
    case = repo.cases[step.case_id]
    assert step.outcome.opened and step.alert is None  # a normal case posts no alert
    assert case["status"] == "new" and case["priority_rank"] == 2 and case["entities"] == {"country": ["Libya"]}
    assert [m["text"] for m in case["transcript"]] == ["job in Libya?"]  # older than 7 days stays out
    assert "Libya" in case["summary"] and "job" not in case["summary"]
    assert [a[:2] for a in repo.audits] == [("bot", "case_opened")]

    other = MemoryCases()
    step = cases.user_message(other, message(Escalation("urgent", "emergency")), NOW)
    assert step.alert == cases.Alert(step.case_id, "urgent", other.cases[step.case_id]["summary"], False)


def test_a_higher_priority_raises_the_open_case_once_and_a_lower_one_only_joins(repo):
    case_id = open_case(repo)
    step = cases.user_message(repo, message(Escalation("urgent", "safety_net")), NOW)
    assert (step.case_id, step.outcome.raised, step.outcome.opened) == (case_id, True, False)
    assert step.alert is not None and step.alert.raised
    assert repo.cases[case_id]["priority"] == "urgent" and repo.cases[case_id]["reason"] == "safety_net"
    step = cases.user_message(repo, message(Escalation("high", "report", report={"what": "x"})), NOW)
    assert not step.outcome.raised and step.alert is None and step.outcome.joined
    assert repo.cases[case_id]["priority"] == "urgent" and repo.cases[case_id]["report"] == {"what": "x"}
    assert [a[1] for a in repo.audits] == ["case_opened", "priority_raised", "case_raised"]


def test_what_fired_an_urgent_case_is_kept_and_its_summary_line_names_it_without_the_phrases(repo):
    case_id = open_case(repo)
    cases.user_message(repo, message(Escalation("urgent", "safety_net", fired_by="locked in a room (1 phrase)",
                                                fired_brief="1 danger phrase")), NOW)
    case = repo.cases[case_id]
    assert case["fired_by"] == "locked in a room (1 phrase)"
    assert case["summary"].endswith("fired: 1 danger phrase") and "locked" not in case["summary"]
    cases.user_message(repo, message(Escalation("high", "report", report={"what": "x"})), NOW)
    assert repo.cases[case_id]["summary"].endswith("fired: 1 danger phrase")  # kept when the line is rewritten


def test_a_message_joins_the_open_case_and_an_answer_puts_a_waiting_case_back(repo):
    case_id = open_case(repo)
    assert cases.user_message(repo, message(), NOW).outcome.joined
    repo.cases[case_id].update(status="waiting", assigned_to=None)
    cases.user_message(repo, message(entities=[{"entity": "country", "value": "Oman"}]), NOW)
    assert repo.cases[case_id]["status"] == "new" and repo.cases[case_id]["entities"] == {"country": ["Oman"]}
    repo.cases[case_id].update(status="waiting", assigned_to=1)
    cases.user_message(repo, message(), NOW)
    assert repo.cases[case_id]["status"] == "claimed"  # back with the person holding it
    no_case = MemoryCases()
    step = cases.user_message(no_case, message(), NOW)
    assert step == cases.CaseStep(None, None, None) and not no_case.cases


def test_claim_is_won_once_and_take_over_needs_the_holder_that_was_seen(repo):
    case_id = open_case(repo)
    amina, bilal = repo.people[1], repo.people[2]
    assert cases.claim(repo, case_id, amina, NOW)
    assert not cases.claim(repo, case_id, bilal, NOW)  # already claimed
    with pytest.raises(CaseError, match="changed"):
        cases.takeover(repo, case_id, bilal, None, NOW)  # bilal saw it unassigned
    cases.takeover(repo, case_id, bilal, amina.id, NOW)
    assert repo.cases[case_id]["assigned_to"] == bilal.id and repo.cases[case_id]["status"] == "claimed"
    assert repo.audits[-1] == ("bilal", "takeover", case_id, {"previous_id": 1, "previous": "amina"})


def test_assign_only_to_active_case_workers_and_keeps_a_waiting_case_waiting(repo):
    case_id = open_case(repo)
    sana = repo.people[3]
    for target in (4, 5, 99):  # an editor, a disabled account, nobody
        with pytest.raises(CaseError, match="bad_assignee"):
            cases.assign(repo, case_id, target, sana, NOW)
    cases.assign(repo, case_id, 1, sana, NOW)
    assert repo.cases[case_id]["status"] == "claimed"
    repo.cases[case_id]["status"] = "waiting"
    cases.assign(repo, case_id, 2, sana, NOW)
    assert (repo.cases[case_id]["assigned_to"], repo.cases[case_id]["status"]) == (2, "waiting")
    with pytest.raises(NotFound):
        cases.assign(repo, 999, 1, sana, NOW)


def test_only_the_holder_replies_and_the_reply_goes_to_the_outbox_rendered_by_the_channel(repo):
    case_id = open_case(repo)
    amina, bilal = repo.people[1], repo.people[2]
    with pytest.raises(CaseError, match="not_yours"):
        cases.reply(repo, case_id, amina, "hello", NOW, Text())
    cases.claim(repo, case_id, amina, NOW)
    for text, code in (("  ", "empty"), ("x" * (cases.MAX_REPLY + 1), "too_long")):
        with pytest.raises(CaseError, match=code):
            cases.reply(repo, case_id, amina, text, NOW, Text())
    with pytest.raises(CaseError) as error:
        cases.reply(repo, case_id, bilal, "hi", NOW, Text())
    assert error.value.detail == {"holder": "amina"}
    cases.reply(repo, case_id, amina, "Are you safe?\r\n", NOW, Text())
    later = NOW + timedelta(minutes=5)
    cases.reply(repo, case_id, amina, "Again", later, Text())
    case = repo.cases[case_id]
    assert case["status"] == "waiting" and case["first_response_at"] == NOW  # the first reply counts
    assert [o["payload"]["text"] for o in repo.outbox] == ["[ur] Are you safe?", "[ur] Again"]
    assert {o["chat_id"] for o in repo.outbox} == {"1010"} and repo.messages[-1]["direction"] == "staff"
    repo.chats.clear()
    with pytest.raises(CaseError, match="unreachable"):
        cases.reply(repo, case_id, amina, "anyone?", NOW, Text())


def test_status_resolve_and_reopen(repo):
    case_id = open_case(repo)
    amina = repo.people[1]
    cases.claim(repo, case_id, amina, NOW)
    with pytest.raises(CaseError, match="bad_status"):
        cases.set_status(repo, case_id, amina, "claimed", NOW)
    cases.add_note(repo, case_id, amina, "called back", NOW)
    cases.resolve(repo, case_id, amina, NOW)
    assert repo.cases[case_id]["resolved_at"] == NOW
    with pytest.raises(CaseError, match="resolved"):
        cases.set_status(repo, case_id, amina, "waiting", NOW)
    newer = open_case(repo)  # the user wrote again: a new case
    with pytest.raises(CaseError) as error:
        cases.reopen(repo, case_id, amina, NOW)
    assert error.value.code == "other_open" and error.value.detail == {"other": newer}
    repo.cases[newer]["status"] = "resolved"  # closed by whoever held it
    cases.reopen(repo, case_id, amina, NOW)
    assert (repo.cases[case_id]["status"], repo.cases[case_id]["assigned_to"]) == ("reopened", None)
    with pytest.raises(CaseError, match="not_resolved"):
        cases.reopen(repo, case_id, amina, NOW)
    assert [a[1] for a in repo.audits if a[0] == "amina"] == ["claim", "note", "status", "status"]


def _imports(path) -> set[str]:
    """The bot modules a file imports (relative imports resolved), at any depth of the file."""
    import ast

    from bot.config import ROOT

    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            name = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("bot.")}


def test_storage_only_stores_and_the_console_app_does_not_import_its_command_line():
    from bot.config import ROOT

    storage = {path.name: _imports(path) for path in (ROOT / "bot" / "storage").glob("*.py")}
    assert storage["turns.py"] and storage["cases.py"]  # the check sees imports
    for name, imported in storage.items():
        assert not {m for m in imported if m.startswith(("bot.hotline", "bot.dialogue"))}, name
    rules = _imports(ROOT / "bot" / "hotline" / "cases.py")
    assert "bot.hotline.policy" in rules and all(m.startswith("bot.hotline.policy") for m in rules)  # no SQL, no channel
    for path in (ROOT / "bot" / "web").glob("*.py"):
        if path.name not in ("cli.py", "server.py"):
            assert not {m for m in _imports(path) if m.startswith(("bot.web.cli", "bot.web.server"))}, path.name
