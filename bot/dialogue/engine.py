"""One turn of the conversation: text, a command or a button press in; replies (text and buttons) out.

    language (remembered per user; detected on the first message; the reply follows the user's
    language unless they chose one) -> NLU (the Understander port) -> policy -> localized replies.

This module is the router and the public façade (Dialogue): a command, a button or typed text is
sent to the part that handles it. The parts:

    kit.py          what every part renders with: topic answers, buttons, the menu, the emergency answer
    policy.py       the free-text policy: what to do with an understood message
    flow.py         the Flow interface and the registry of flows by name (state.flow["name"])
    offer_flow.py, report_flow.py, agent_check.py, danger_check.py: the flows
    replies.py      Reply, Button, Turn, CaseView (re-exported here for the callers)

Pure domain code: the NLU, the content and the catalogs are injected. The caller loads the state and
stores it with whatever else the turn causes (hotline/service.py, through storage/hotline_store.py: the
one state store).
"""
from __future__ import annotations

from ..i18n import I18n
from .agent_check import AgentCheck
from .content import Content, ContentStore
from . import feedback
from .danger_check import DangerCheck
from .flow import FlowRegistry
from .kit import Kit
from .offer_check import OfferCheck, check_of
from .offer_flow import OfferCheckFlow
from .policy import FreeText
from .replies import MERGE_LIMIT, Button, CaseView, Out, Reply, Turn, merge_replies
from .report_flow import ReportFlow
from .state import ConversationState

__all__ = ["Button", "CaseView", "Dialogue", "MERGE_LIMIT", "Reply", "Turn", "merge_replies"]


class Dialogue:
    def __init__(self, understander, content: ContentStore, i18n: I18n, register=None):
        """register: the OEP register port (`get() -> Register | None`) of the agent check; None: empty."""
        self.understander = understander
        self.content_store = content
        self.i18n = i18n
        self.flows = FlowRegistry()
        self.kit = Kit(content, i18n, self.flows)
        # the flows, by name: adding one is a module and a line here
        self.flows.register(OfferCheckFlow(self.kit))
        self.flows.register(ReportFlow(self.kit))
        self.agent = self.flows.register(AgentCheck(self.kit, register))
        self.flows.register(DangerCheck(self.kit))
        self.free_text = FreeText(self.kit, understander)

    # -- entry points ----------------------------------------------------------------------------

    async def process_text(self, state: ConversationState, text: str, case: CaseView | None = None) -> Turn:
        """One turn on a state the caller loaded and will store (with whatever else the turn causes,
        in one transaction). A state with data["erased"] set afterwards must be deleted, not saved.
        `case`: the user's open hotline case, if any (crisis mode while it is urgent)."""
        content = self.kit.content()
        self.flows.forget_unknown(state)
        stripped = text.strip()
        if stripped.startswith("/"):
            return self._command(state, content, stripped, case)
        return await self.free_text.message(state, content, text, case)

    async def process_button(self, state: ConversationState, payload: str, case: CaseView | None = None) -> Turn:
        content = self.kit.content()
        self.flows.forget_unknown(state)
        return self._button(state, content, payload, case)

    # -- for tests and tools ---------------------------------------------------------------------
    @staticmethod
    def _check(content: Content) -> OfferCheck:
        """The offer check of this content snapshot."""
        return check_of(content)

    def _out(self, state: ConversationState, content: Content, case: CaseView | None = None) -> Out:
        return self.kit.out(state, content, case)

    def _action_button(self, out: Out, action: str) -> Button:
        return self.kit.action_button(out, action)

    # -- the router: commands and buttons (typed text goes to the free-text policy) ----------------
    def _command(self, state: ConversationState, content: Content, text: str,
                 open_case: CaseView | None = None) -> Turn:
        name = text.split()[0][1:].split("@")[0].lower()
        out = self.kit.out(state, content, open_case)
        topic = None
        case: dict = {}
        if name == "start":
            state.flow = None
            if state.language is None:  # the language first; the welcome follows the choice
                self.kit.language_picker(out, content)
            else:  # known (the Telegram app's language, or chosen before): the welcome in it
                topic = "greet" if "greet" in content.topics else None
                if topic:
                    self.kit.answer_topic(out, content, state, topic, [self.kit.action_button(out, "language")])
                else:
                    self.kit.menu(out, content)
        elif name == "help":
            topic = "bot_capabilities"
            out.say(self.kit.t(out, "I am SafeSafar's automatic assistant: write your question in your own words, or use "
                                 "a command.") + "\n\n" + self.kit.t(out, "Commands:\n/check: check a job or study offer\n/report: report an agent\n"
                                 "/hotline: numbers to call\n/menu: the main menu\n/language: change the language\n"
                                 "/privacy: what we keep and who sees it\n/delete_me: erase our copy of this "
                                 "conversation\n/help: this list"),
                    [self.kit.action_button(out, "offer_check"), self.kit.action_button(out, "report")],
                    [self.kit.action_button(out, "menu")])
        elif name == "language":
            self.kit.language_picker(out, content)
        elif name == "menu":
            self.kit.menu(out, content)
        elif name == "delete_me":
            out.say(self.kit.t(out, "This erases your conversation with the assistant on our side: your messages, your "
                                 "language, your open check and its results. What you already sent to the SafeSafar "
                                 "team in a case stays with the team until the case is closed. It does not delete "
                                 "this chat on your phone: if someone else checks your phone, delete the chat in "
                                 "Telegram too (press and hold it, then Delete). Erase it?"),
                    [Button(self.kit.t(out, "Yes, erase"), "del:yes"), Button(self.kit.t(out, "No"), "del:no")])
        elif name in ("hotline", "privacy"):
            topic = {"hotline": "hotline_info", "privacy": "privacy"}[name]
            if topic in content.topics:
                self.kit.answer_topic(out, content, state, topic)
        elif (flow := self.flows.by_command(name)) is not None:  # /check, /report, /agent 0848/LHR
            return flow.command(out, content, state, text)
        else:
            out.say(self.kit.t(out, "I don't know that command. Try /help."))
        return Turn(out.replies, out.language, topic=topic, case=case)

    def _button(self, state: ConversationState, content: Content, payload: str,
                open_case: CaseView | None = None) -> Turn:
        kind, _, value = payload.partition(":")
        out = self.kit.out(state, content, open_case)
        topic = None
        escalation = reason = None
        case: dict = {}
        if kind == "lang" and value in content.languages:
            state.language, state.language_chosen = value, True
            out = self.kit.out(state, content, open_case)
            out.say(self.kit.t(out, "Language set to English."))
            self.kit.menu(out, content)
        elif kind == "topic" and value in content.topics:
            topic = value
            self.kit.answer_topic(out, content, state, value)
            state.misses = 0
        elif kind == "more" and value in content.topics:
            topic = value
            self.kit.more(out, content, value, state)
        elif kind == "act" and (flow := self.flows.by_action(value)) is not None:  # "Check my offer", ...
            return flow.action(out, content, state, value)
        elif kind == "act":
            if value == "hotline":
                topic = "hotline_info"
                self.kit.answer_topic(out, content, state, topic)
            elif value in ("human", "human:fallback") and out.case:  # "Add to my case"
                out.say(self.kit.t(out, "Write here what you want to add: everything you write joins your case "
                                        "#{case}, and the SafeSafar team reads it.", case=out.case.id))
                return Turn(out.replies, out.language, case_told=True)
            elif value in ("human", "human:fallback"):  # asked, or accepted after two misunderstood messages
                topic, escalation = "ask_human", "normal"
                reason = "fallback" if value == "human:fallback" else "human"
                self.kit.answer_topic(out, content, state, topic)
            elif value == "language":
                self.kit.language_picker(out, content)
            elif value == "topics":
                self.kit.all_topics(out, content)
            else:
                self.kit.menu(out, content)
        elif kind == "fb":  # 👍 / 👎 under an answer: once per answer
            record = feedback.press(state, value)
            if record is None:
                return Turn([], out.language)
            vote = {"vote": record["vote"], "topic": record["topic"]}
            if record["vote"] == "up":
                out.say(self.kit.t(out, "Thank you for telling me."))
                return Turn(out.replies, out.language, vote=vote)
            out.say(self.kit.t(out, "Sorry that this did not help. Your question goes to the SafeSafar team so that the "
                                    "answers get better. Would you like to ask a person?"),
                    [self.kit.action_button(out, "human")], [self.kit.action_button(out, "menu")])
            return Turn(out.replies, out.language, vote=vote, learn={"source": "not_helpful", **record})
        elif kind == "del":
            if value == "yes":
                state.__init__(state.user)  # the caller deletes what is stored; nothing is kept
                state.data["erased"] = True
                out.say(self.kit.t(out, "Done: your conversation with the assistant is erased."))
            else:
                out.say(self.kit.t(out, "Nothing was erased."))
        elif (flow := self.flows.by_prefix(kind)) is not None:  # oc:, rf:, ag:, dg: (flow.py)
            return flow.button(out, content, state, value)
        else:
            out.say(self.kit.t(out, "That button has expired. Here is the menu."))
            self.kit.menu(out, content)
        return Turn(out.replies, out.language, escalation=escalation, topic=topic, reason=reason, case=case)
