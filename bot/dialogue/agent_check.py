"""The agent check: a licence number or a name in, the agency's entry on the BE&OE register of licensed
Overseas Employment Promoters out, worded with care.

    start (menu, /agent, the verify_agent intent, a "check an agent" button)
      -> the register is empty: it cannot check yet; how to check on the BE&OE website (verify_agent)
      -> a licence number in the first message: the result at once
      -> else ask -> typed number or name -> result | several plausible: choose (buttons) -> result
    result: the agency, licence, city, status, expiry, notices, the register's date (a warning when it
    is older than 30 days), what to do; Turn.case["agent_check"] joins the user's open case.

Channel-free: the register comes through a port with `get() -> Register | None`
(bot/storage/register_store.RegisterSource, or a fixed one in tests).
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Callable

from ..register import licence as lic
from ..register.match import Entry, Lookup, Register
from .content import Content
from .flow import Flow
from .kit import CONFIDENT, SOCIAL
from .offer_check import check_of
from .replies import Button, Out, Turn
from .state import ConversationState

if TYPE_CHECKING:
    from ..understanding import Understanding
    from .kit import Kit

FLOW = "agent_check"
LICENCE_QUESTION = "verified"  # the offer check's question on the agent's licence (content/offer_check.yml)
BAD = ("expired", "suspended", "cancelled", "surrendered", "invalid", "blacklisted")


class FixedRegister:
    """A register that does not change (tests, the terminal chat without a database)."""

    def __init__(self, register: Register | None):
        self.register = register

    def get(self) -> Register | None:
        return self.register


def case_of(record: dict | None) -> dict:
    """An agent check's result for the user's open case (Turn.case)."""
    return {"agent_check": record} if record else {}


class AgentCheck(Flow):
    name = FLOW
    prefix = "ag"
    commands = ("agent",)
    actions = ("agent", "agent_again", "agent_howto")

    def __init__(self, kit: "Kit", source, today: Callable[[], date] = date.today):
        super().__init__(kit)
        self.source = source
        self.today = today

    # -- the router's interface (flow.py) -------------------------------------------------------------
    def command(self, out: Out, content: Content, state: ConversationState, text: str) -> Turn:
        return out.turn(case=case_of(self.start(out, content, state, text.partition(" ")[2])))  # /agent 0848/LHR

    def action(self, out: Out, content: Content, state: ConversationState, action: str) -> Turn:
        if action == "agent_howto":
            return out.turn(case=case_of(self.pressed(out, content, state, "howto")))
        return out.turn(case=case_of(self.start(out, content, state)))

    def action_label(self, out: Out, action: str) -> str:
        t = self.kit.t
        return {"agent": t(out, "Check an agent"), "agent_again": t(out, "Check another agent"),
                "agent_howto": t(out, "How to check an agent")}[action]

    def button(self, out: Out, content: Content, state: ConversationState, value: str) -> Turn:
        return out.turn(case=case_of(self.pressed(out, content, state, value)))

    def text(self, out: Out, content: Content, state: ConversationState, text: str,
             result: "Understanding") -> Turn | None:
        other = (result.intent not in (None, "verify_agent") and not result.fallback
                 and result.confidence >= CONFIDENT and result.intent not in SOCIAL
                 and result.intent in content.by_intent)
        handled, record = self.typed(out, content, state, text, other_topic=other)
        if handled:
            return out.turn(result, topic="verify_agent", case=case_of(record))
        return None

    def topic_action(self, topic_id: str) -> str | None:
        return "agent" if topic_id == "verify_agent" and self.register() is not None else None

    def register(self) -> Register | None:
        register = self.source.get() if self.source is not None else None
        return register if register is not None and len(register) else None

    def names_a_firm(self, state: ConversationState, text: str) -> bool:
        """The text is a firm's name or licence number, not the user's language: "Sample Crescent Star"
        typed by someone who chose Urdu keeps the reply in Urdu."""
        return bool((state.flow and state.flow.get("name") == FLOW) or lic.find(text, known_regions=True))

    def is_licence_query(self, text: str) -> bool:
        """A message that is a licence number and little else, while the register can be checked."""
        numbers = lic.find(text, known_regions=True)
        return bool(numbers) and len(text.split()) <= 6 and self.register() is not None

    # -- entry -----------------------------------------------------------------------------------------------
    def start(self, out: Out, content: Content, state: ConversationState, text: str = "") -> dict | None:
        """Opens the check. A licence number in `text` is checked at once. Returns the case record of a
        result, if one was given."""
        register = self.register()
        t = self.kit.t
        if register is None:
            if "verify_agent" in content.topics:
                self.kit.answer_topic(out, content, state, "verify_agent")
            out.say(t(out, "I cannot check agencies in this chat yet: the register of licensed agencies has not "
                           "been loaded. Please check on the BE&OE website ({website}) as explained above.",
                      website=self._website(out)))
            return None
        state.flow = {"name": FLOW, "step": "ask"}
        if text and (lic.find(text) or lic.bare_number(text) is not None):
            return self.check(out, content, state, text)
        if text and register.lookup(text).kind == "name":  # "is Crescent Star Overseas licensed?": one agency
            return self.check(out, content, state, text)
        out.say(t(out, "Send me the licence number of the agency (for example 1234/RWP) or its name, and I will "
                       "look it up in the register of licensed Overseas Employment Promoters published by the "
                       "Bureau of Emigration & Overseas Employment (BE&OE).") + "\n" + self._dated(out, register),
                [self.kit.action_button(out, "agent_howto")], [Button(t(out, "Stop"), "ag:stop")])
        return None

    # -- typed text and buttons ------------------------------------------------------------------------------
    def typed(self, out: Out, content: Content, state: ConversationState, text: str,
              other_topic: bool = False) -> tuple[bool, dict | None]:
        """Typed text while the check waits: the number or name to look up. (False, None) when it is not
        on the register and reads as a question on another topic (other_topic): the flow closes and the
        free-text policy answers the question."""
        from .report_form import is_cancel

        if is_cancel(text):
            return True, self.pressed(out, content, state, "stop")
        register = self.register()
        if other_topic and register is not None and register.lookup(text).kind == "none":
            state.flow = None
            return False, None
        return True, self.check(out, content, state, text)

    def pressed(self, out: Out, content: Content, state: ConversationState, value: str) -> dict | None:
        t = self.kit.t
        flow = state.flow if state.flow and state.flow.get("name") == FLOW else None
        action, _, arg = value.partition(":")
        if action == "stop":
            state.flow = None
            out.say(t(out, "The agent check is stopped."))
            self.kit.menu(out, content)
            return None
        if action == "again":
            return self.start(out, content, state)
        if action == "howto":
            if "verify_agent" in content.topics:
                self.kit.answer_topic(out, content, state, "verify_agent")
            return None
        register = self.register()
        if register is None or flow is None or flow.get("step") != "choose":
            out.say(t(out, "That check is over. Start a new one?"), [self.kit.action_button(out, "agent")])
            return None
        if action == "pick" and arg in flow.get("options", []) and arg in register.by_licence:
            state.flow = None
            return self._result(out, content, register, register.by_licence[arg], flow.get("query", ""), "name")
        if action == "none":
            state.flow = None
            return self._not_found(out, content, register, Lookup("none", flow.get("query", "")))
        out.say(t(out, "That check is over. Start a new one?"), [self.kit.action_button(out, "agent")])
        return None

    # -- inside the offer check -------------------------------------------------------------------------------
    def offer_licence(self, out: Out, content: Content, state: ConversationState, text: str) -> dict | None:
        """A licence number typed where the offer check asks whether the agent showed one: looked up, and
        the question answered by the register (on it and valid: no; not on it or not valid: yes, a critical
        flag of the score). None when this is not that case (the check handles the text as before)."""
        flow = state.flow or {}
        if flow.get("kind") != "job" or flow.get("asking") != LICENCE_QUESTION:
            return None
        register = self.register()
        if register is None or not (lic.find(text) or lic.bare_number(text) is not None):
            return None
        query = " ".join(text.split())[:200]
        found = register.lookup(query)
        if found.kind == "licence":
            record = self._result(out, content, register, found.entries[0], query, found.by, buttons=False)
        elif found.kind == "none":
            record = self._not_found(out, content, register, found, buttons=False)
        else:
            return None  # a number without its region, in several cities: the question is asked again
        check = check_of(content)
        question = check.by_id.get(LICENCE_QUESTION)
        if question is None:
            return record
        red_flag = getattr(question, "flag", "yes")  # the answer that is the red flag ("no": not checked)
        valid = record.get("status") == "valid"
        check.answer(flow, LICENCE_QUESTION, ("no" if red_flag == "yes" else "yes") if valid else red_flag)
        if not valid:
            flow["critical"] = sorted(set(flow.get("critical", [])) | {LICENCE_QUESTION})
        return record

    # -- the check -------------------------------------------------------------------------------------------
    def check(self, out: Out, content: Content, state: ConversationState, text: str) -> dict | None:
        register = self.register()
        if register is None:
            state.flow = None
            return self.start(out, content, state)
        query = " ".join(text.split())[:200]
        found = register.lookup(query)
        t = self.kit.t
        if found.kind in ("licence", "name"):
            state.flow = None
            return self._result(out, content, register, found.entries[0], query, found.by)
        if found.kind == "choose":
            state.flow = {"name": FLOW, "step": "choose", "query": query,
                          "options": [e.agency.licence for e in found.entries]}
            if found.by == "number":
                ask = t(out, "Several agencies on the register have this number, in different cities. Which one "
                             "do you mean?")
            else:
                ask = t(out, "I found agencies with a similar name, but not exactly this one. Is it one of these? "
                             "If not, press \"None of these\".")
            rows = [[Button(f"{e.agency.title} ({e.agency.licence})"[:64], f"ag:pick:{e.agency.licence}")]
                    for e in found.entries]
            out.say(ask, *rows, [Button(t(out, "None of these"), "ag:none")])
            return None
        state.flow = None
        return self._not_found(out, content, register, found)

    def _dated(self, out: Out, register: Register) -> str:
        t = self.kit.t
        today = self.today()
        if register.register_date is None:
            return t(out, "The date of this copy of the register is not known: confirm on {website} before you pay "
                          "or sign anything.", website=self._website(out))
        when = self._date(out, register.register_date)
        line = t(out, "Register of {date}.", date=when)
        if register.stale(today):
            days = (today - register.register_date).days
            line += "\n" + t(out, "Warning: this copy of the register is {days} days old. A licence may have changed "
                                  "since then: confirm on {website} before you pay or sign anything.",
                             days=self.kit.i18n.number(days, out.language), website=self._website(out))
        return line

    def _date(self, out: Out, value: date) -> str:
        content = self.kit.content_store.get()
        return self.kit.i18n.date(value, out.language, content.languages[out.language].date_format)

    def _website(self, out: Out) -> str:
        content = self.kit.content_store.get()
        return content.fact("beoe_website", out.language) or "BE&OE"

    def _result(self, out: Out, content: Content, register: Register, entry: Entry, query: str,
                by: str, buttons: bool = True) -> dict:
        t = self.kit.t
        agency = entry.agency
        status = entry.status
        lines = [agency.title, t(out, "Licence {licence} · {city}", licence=agency.licence, city=agency.city)]
        expiry = self._date(out, agency.expiry) if agency.expiry else None
        if status == "valid":
            lines.append(t(out, "Status: valid licence, until {date}.", date=expiry) if expiry
                         else t(out, "Status: valid licence."))
            lines += ["", t(out, "This firm is licensed. That is necessary, not sufficient: still check the job, the "
                                 "contract and the fees. Make sure you deal with this firm's own office (the same name, "
                                 "licence number and address), ask for the demand letter, have your contract "
                                 "registered with the Protector of Emigrants and get a receipt for every payment.")]
        else:
            lines.append({
                "expired": t(out, "Status: the licence EXPIRED on {date}.", date=expiry) if expiry
                else t(out, "Status: the licence has EXPIRED."),
                "suspended": t(out, "Status: the licence is SUSPENDED."),
                "cancelled": t(out, "Status: the licence was CANCELLED."),
                "surrendered": t(out, "Status: the licence was SURRENDERED: it is no longer valid."),
                "invalid": t(out, "Status: the licence is NOT VALID."),
                "blacklisted": t(out, "Status: this agency is BLACKLISTED by the Bureau of Emigration."),
            }[status])
            lines.append("")
            if status == "blacklisted":
                lines.append(t(out, "Do not deal with this agency at all. Do not pay it and do not give it your "
                                    "passport. If it has asked you for money or documents, report it."))
            else:
                lines.append(t(out, "Without a valid licence this agency may not recruit anyone for work abroad. Do "
                                    "not pay it and do not give it your passport. If it is still recruiting, or has "
                                    "taken money from you, report it."))
        for notice in entry.notices[-2:]:
            lines.append(t(out, "BE&OE notice of {date}: {title}",
                           date=self._date(out, notice.day), title=notice.title))
        lines += ["", self._dated(out, register)]
        rows = [[self.kit.action_button(out, "report")]] if status in BAD else []
        rows.append([self.kit.action_button(out, "agent_again"), self.kit.action_button(out, "menu")])
        out.say("\n".join(lines), *(rows if buttons else []))
        return {"query": query, "by": by, "outcome": "found", "licence": agency.licence, "title": agency.title,
                "status": status, "expiry": agency.expiry.isoformat() if agency.expiry else None,
                "register_date": register.register_date.isoformat() if register.register_date else None}

    def _not_found(self, out: Out, content: Content, register: Register, found: Lookup,
                   buttons: bool = True) -> dict:
        t = self.kit.t
        when = (self._date(out, register.register_date) if register.register_date
                else t(out, "unknown date"))
        numbers = lic.find(found.query)
        if numbers:
            head = t(out, "The licence number {licence} is not on the register of {date}.", licence=numbers[0],
                     date=when)
        else:
            head = t(out, "\"{name}\" is not on the register of {date}.", name=found.query, date=when)
        text = "\n\n".join([
            head,
            t(out, "Anyone who recruits people for jobs abroad must hold a licence from the Bureau of Emigration & "
                   "Overseas Employment (Emigration Ordinance 1979): an unlicensed recruiter is breaking the law. "
                   "Check the exact name and licence number on the agency's papers and try again, or confirm on "
                   "{website}.", website=self._website(out)),
            t(out, "If an unlicensed recruiter is offering jobs abroad or has taken money from you, report it: the "
                   "SafeSafar team can help you and pass it on."),
            self._dated(out, register),
        ])
        rows = [[self.kit.action_button(out, "report"), self.kit.action_button(out, "hotline")],
                [self.kit.action_button(out, "agent_again"), self.kit.action_button(out, "menu")]]
        out.say(text, *(rows if buttons else []))
        return {"query": found.query, "by": found.by, "outcome": "not_found",
                "register_date": register.register_date.isoformat() if register.register_date else None}

