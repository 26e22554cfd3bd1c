"""One turn of the conversation: text, a command or a button press in; replies (text and buttons) out.

    language (remembered per user; detected on the first message; the reply follows the user's
    language unless they chose one) -> NLU (the Understander port) -> policy -> localized replies.

Pure domain code: the NLU, the content and the catalogs are injected. The caller loads the state and
stores it with whatever else the turn causes (hotline/service.py, through storage/hotline_store.py: the
one state store).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..i18n import I18n
from ..text import clean, letters
from ..understanding import Understanding
from .content import ACTIONS, Content, ContentStore
from . import danger_check, feedback, report_form
from .listening import Listening
from .offer_check import ANSWERS, KINDS, OfferCheck, variant
from .state import ConversationState

CONFIDENT = 0.6  # a different topic this sure interrupts an open offer check
FORMS = {"check_study_offer", "check_job_offer", "report_suspect"}  # they would replace the open form
SOCIAL = {"greet", "goodbye", "thank", "affirm", "deny", "out_of_scope", "bot_capabilities"}
# intents a description of an offer is often taken for (a country and an amount make it an offer)
OFFER_LIKE = {"agent_fees", "visa_rules", "safe_migration", "study_abroad", "verify_agent", "passport_documents",
              "warning_signs", "out_of_scope"}
MENU_TOPICS = ("warning_signs", "irregular_route", "verify_agent", "hotline_info")


@dataclass(frozen=True)
class CaseView:
    """The user's open hotline case, as the conversation needs it (the service loads it)."""
    id: int
    priority: str  # urgent | high | normal
    status: str  # new | claimed | waiting | reopened
    target_minutes: int | None = None  # the queue's first-response target for this priority

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    language: str = "en"
    rtl: bool = False


@dataclass
class Turn:
    replies: list[Reply]
    language: str
    understanding: Understanding | None = None
    escalation: str | None = None  # urgent | high | normal: what the hotline queue must receive
    topic: str | None = None
    reason: str | None = None  # why it escalates: emergency | safety_net | report | human | offer_check
    case: dict = field(default_factory=dict)  # what the case carries besides the transcript (report, offer check)
    case_told: bool = False  # the replies already tell the user about their open case (no reminder needed)
    entities: list = field(default_factory=list)  # what the turn adds to the case besides the NLU's entities
    # for the learning inbox (issue 20): {"source": "fallback" | "ask_back"} for the turn's own message;
    # {"source": "not_helpful", "text", "intent", ...} for a 👎 (the question of the answer it was under)
    learn: dict | None = None
    vote: dict | None = None  # a 👍 / 👎 pressed: {"vote": "up" | "down", "topic"}


MERGE_LIMIT = 3500  # characters: Telegram takes 4096 per message


def merge_replies(replies: list[Reply], limit: int = MERGE_LIMIT) -> list[Reply]:
    """One message per turn where it can be: a reply without buttons joins the next one (its buttons
    stay under both); a reply without buttons after one with buttons joins that one (an acknowledgement
    joins the answer). Two replies that both carry buttons stay two messages."""
    merged: list[Reply] = []
    for reply in replies:
        last = merged[-1] if merged else None
        if (last is not None and last.language == reply.language and (not last.buttons or not reply.buttons)
                and len(last.text) + len(reply.text) + 2 <= limit):
            merged[-1] = Reply(f"{last.text}\n\n{reply.text}", last.buttons or reply.buttons, reply.language,
                               reply.rtl)
        else:
            merged.append(reply)
    return merged


@dataclass
class _Out:
    """Replies being built for one turn, in one language."""
    language: str
    rtl: bool
    replies: list[Reply] = field(default_factory=list)
    case: CaseView | None = None  # the user's open case

    def say(self, text: str, *rows: list[Button]) -> None:
        self.replies.append(Reply(text, tuple(tuple(r) for r in rows if r), self.language, self.rtl))


class Dialogue:
    def __init__(self, understander, content: ContentStore, i18n: I18n, register=None):
        """register: the OEP register port (`get() -> Register | None`) of the agent check; None: empty."""
        from .agent_check import AgentCheck

        self.understander = understander
        self.content_store = content
        self.i18n = i18n
        self.agent = AgentCheck(self, register)

    # -- entry points ----------------------------------------------------------------------------

    async def process_text(self, state: ConversationState, text: str, case: CaseView | None = None) -> Turn:
        """One turn on a state the caller loaded and will store (with whatever else the turn causes,
        in one transaction). A state with data["erased"] set afterwards must be deleted, not saved.
        `case`: the user's open hotline case, if any (crisis mode while it is urgent)."""
        content = self._content()
        stripped = text.strip()
        if stripped.startswith("/"):
            return self._command(state, content, stripped, case)
        return await self._message(state, content, text, case)

    async def process_button(self, state: ConversationState, payload: str, case: CaseView | None = None) -> Turn:
        return self._button(state, self._content(), payload, case)

    # -- helpers ---------------------------------------------------------------------------------
    def _content(self) -> Content:
        content = self.content_store.get()
        self.i18n.configure({c: l.catalog for c, l in content.languages.items()},
                            {c: l.babel for c, l in content.languages.items()},
                            {c: l.fallback for c, l in content.languages.items() if l.fallback and l.fallback != "en"})
        return content

    def _out(self, state: ConversationState, content: Content, case: CaseView | None = None) -> _Out:
        lang = state.language if state.language in content.languages else "en"
        return _Out(lang, content.languages[lang].rtl, case=case)

    def _listening(self, content: Content) -> Listening:
        return Listening.of(content, self._check(content).unsure if content.offer_check else None)

    def _t(self, out: _Out, message: str, **values) -> str:
        return self.i18n.tr(out.language, message, **values)

    def _topic_button(self, out: _Out, content: Content, topic_id: str) -> Button:
        return Button(content.title(topic_id, out.language), f"topic:{topic_id}")

    def _action_button(self, out: _Out, action: str) -> Button:
        labels = {
            "offer_check": self._t(out, "Check my offer"),
            "hotline": self._t(out, "Numbers to call"),
            "human": self._t(out, "Add to my case") if out.case else self._t(out, "Talk to the SafeSafar team"),
            "report": self._t(out, "Report an agent"),
            "menu": self._t(out, "Main menu"),
            "language": self._t(out, "Language"),
            "offer_continue": self._t(out, "Continue the check"),
            "report_continue": self._t(out, "Continue the report"),
            "agent": self._t(out, "Check an agent"),
            "agent_again": self._t(out, "Check another agent"),
            "agent_howto": self._t(out, "How to check an agent"),
            "topics": self._t(out, "All topics"),
        }
        return Button(labels[action], f"act:{action}")

    def _buttons(self, out: _Out, content: Content, specs: list[dict]) -> list[Button]:
        buttons = []
        for spec in specs:
            if "topic" in spec and spec["topic"] in content.topics:
                buttons.append(self._topic_button(out, content, spec["topic"]))
            elif spec.get("action") in ACTIONS:
                buttons.append(self._action_button(out, spec["action"]))
        return buttons

    def _footer(self, out: _Out, content: Content, topic_id: str) -> str:
        topic = content.topics[topic_id]
        if not topic.reviewed:
            return ""
        pattern = content.languages[out.language].date_format
        return self._t(out, "Reviewed: {date}", date=self.i18n.date(topic.reviewed, out.language, pattern))

    def _sources(self, out: _Out, content: Content, topic_id: str) -> str:
        lines = []
        for source in content.topics[topic_id].sources:
            publisher = str(source.get("publisher") or "").strip()
            if not publisher or publisher.startswith("shared/"):
                continue
            line = f"• {publisher}: {source.get('title', '')}"
            if source.get("published"):
                line += f" ({source['published']})"
            if source.get("url"):
                line += f"\n  {source['url']}"
            lines.append(line)
        return (self._t(out, "Sources:") + "\n" + "\n".join(lines)) if lines else ""

    def _answer_topic(self, out: _Out, content: Content, state: ConversationState, topic_id: str,
                      extra: list[Button] | None = None) -> None:
        """The short answer (the action first); details and sources sit behind the "More" button."""
        text = content.answer(topic_id, out.language)
        if state.data.get("phone_checked"):  # no "keep screenshots" for someone whose phone is checked
            text = self._listening(content).phone_safe(text)
        footer = self._footer(out, content, topic_id) if topic_id not in SOCIAL else ""
        if footer:
            text = f"{text}\n\n{footer}"
        buttons = self._buttons(out, content, content.topics[topic_id].buttons)
        if topic_id == "verify_agent" and self.agent.register() is not None:
            buttons.insert(0, self._action_button(out, "agent"))
        if content.more(topic_id, out.language) or self._sources(out, content, topic_id):
            buttons.insert(0, Button(self._t(out, "More"), f"more:{topic_id}"))
        out.say(text, buttons[:2], buttons[2:] + (extra or []))
        state.last_topic = topic_id
        seen = state.data.setdefault("seen", [])
        if topic_id not in seen and topic_id not in SOCIAL:
            seen.append(topic_id)

    def _answer_or_recall(self, out: _Out, content: Content, state: ConversationState, topic_id: str,
                          extra: list[Button] | None = None) -> None:
        """A topic asked again in words: a short pointer to the answer above, not the same long page
        (a button shows it again). A pressed topic button always shows the page."""
        if topic_id in state.data.get("seen", ()) and topic_id not in SOCIAL | {"emergency"}:
            out.say(self._t(out, "I answered this above (“{title}”). Ask me about the part that is still unclear, "
                                 "or see the answer again.", title=content.title(topic_id, out.language)),
                    [Button(self._t(out, "Show it again"), f"topic:{topic_id}")], extra or [])
            state.last_topic = topic_id
            return
        self._answer_topic(out, content, state, topic_id, extra)

    def _more(self, out: _Out, content: Content, topic_id: str, state: ConversationState | None = None) -> None:
        more = content.more(topic_id, out.language)
        if more and state is not None and state.data.get("phone_checked"):
            more = self._listening(content).phone_safe(more)
        parts = [more, self._sources(out, content, topic_id)]
        buttons = self._buttons(out, content, content.topics[topic_id].buttons)
        out.say("\n\n".join(p for p in parts if p), buttons[:2], buttons[2:] + [self._action_button(out, "menu")])

    def _menu(self, out: _Out, content: Content) -> None:
        topics = [self._topic_button(out, content, t) for t in MENU_TOPICS if t in content.topics]
        out.say(self._t(out, "What would you like to do?"),
                [self._action_button(out, "offer_check"), self._action_button(out, "agent")],
                [self._action_button(out, "report")],
                topics[:2], topics[2:], [self._action_button(out, "topics"), self._action_button(out, "language")])

    def _all_topics(self, out: _Out, content: Content) -> None:
        buttons = [self._topic_button(out, content, t) for t in content.menu_topics()]
        out.say(self._t(out, "Choose a topic:"), *[[b] for b in buttons], [self._action_button(out, "menu")])

    def _language_picker(self, out: _Out, content: Content) -> None:
        out.say(self._t(out, "Choose your language"),
                [Button(lang.name, f"lang:{code}") for code, lang in content.languages.items()])

    # -- commands and buttons --------------------------------------------------------------------
    def _command(self, state: ConversationState, content: Content, text: str,
                 open_case: CaseView | None = None) -> Turn:
        name = text.split()[0][1:].split("@")[0].lower()
        out = self._out(state, content, open_case)
        topic = None
        case: dict = {}
        if name == "start":
            state.flow = None
            if state.language is None:  # the language first; the welcome follows the choice
                self._language_picker(out, content)
            else:  # known (the Telegram app's language, or chosen before): the welcome in it
                topic = "greet" if "greet" in content.topics else None
                if topic:
                    self._answer_topic(out, content, state, topic, [self._action_button(out, "language")])
                else:
                    self._menu(out, content)
        elif name == "help":
            topic = "bot_capabilities"
            out.say(self._t(out, "I am SafeSafar's automatic assistant: write your question in your own words, or use "
                                 "a command.") + "\n\n" + self._t(out, "Commands:\n/check: check a job or study offer\n/report: report an agent\n"
                                 "/hotline: numbers to call\n/menu: the main menu\n/language: change the language\n"
                                 "/privacy: what we keep and who sees it\n/delete_me: erase our copy of this "
                                 "conversation\n/help: this list"),
                    [self._action_button(out, "offer_check"), self._action_button(out, "report")],
                    [self._action_button(out, "menu")])
        elif name == "language":
            self._language_picker(out, content)
        elif name == "check":
            self._start_check(out, content, state, None, "")
        elif name == "report":
            self._start_report(out, state)
        elif name == "agent":
            case = self._agent_case(self.agent.start(out, content, state, text.partition(" ")[2]))
        elif name == "menu":
            self._menu(out, content)
        elif name == "delete_me":
            out.say(self._t(out, "This erases your conversation with the assistant on our side: your messages, your "
                                 "language, your open check and its results. What you already sent to the SafeSafar "
                                 "team in a case stays with the team until the case is closed. It does not delete "
                                 "this chat on your phone: if someone else checks your phone, delete the chat in "
                                 "Telegram too (press and hold it, then Delete). Erase it?"),
                    [Button(self._t(out, "Yes, erase"), "del:yes"), Button(self._t(out, "No"), "del:no")])
        elif name in ("hotline", "privacy"):
            topic = {"hotline": "hotline_info", "privacy": "privacy"}[name]
            if topic in content.topics:
                self._answer_topic(out, content, state, topic)
        else:
            out.say(self._t(out, "I don't know that command. Try /help."))
        return Turn(out.replies, out.language, topic=topic, case=case)

    def _button(self, state: ConversationState, content: Content, payload: str,
                open_case: CaseView | None = None) -> Turn:
        kind, _, value = payload.partition(":")
        out = self._out(state, content, open_case)
        topic = None
        escalation = reason = None
        case: dict = {}
        if kind == "lang" and value in content.languages:
            state.language, state.language_chosen = value, True
            out = self._out(state, content, open_case)
            out.say(self._t(out, "Language set to English."))
            self._menu(out, content)
        elif kind == "topic" and value in content.topics:
            topic = value
            self._answer_topic(out, content, state, value)
            state.misses = 0
        elif kind == "more" and value in content.topics:
            topic = value
            self._more(out, content, value, state)
        elif kind == "act":
            if value == "offer_check":
                self._start_check(out, content, state, None, "")
            elif value == "offer_continue":
                self._ask_next(out, content, state)
            elif value == "hotline":
                topic = "hotline_info"
                self._answer_topic(out, content, state, topic)
            elif value in ("human", "human:fallback") and out.case:  # "Add to my case"
                out.say(self._t(out, "Write here what you want to add: everything you write joins your case "
                                     "#{case}, and the SafeSafar team reads it.", case=out.case.id))
                return Turn(out.replies, out.language, case_told=True)
            elif value in ("human", "human:fallback"):  # asked, or accepted after two misunderstood messages
                topic, escalation = "ask_human", "normal"
                reason = "fallback" if value == "human:fallback" else "human"
                self._answer_topic(out, content, state, topic)
            elif value == "pass_check" and state.data.get("last_offer_check"):
                # a high-risk offer check the user chose to pass on
                check = state.data["last_offer_check"]
                escalation = "high" if check.get("level") == "high" else "normal"
                reason, case = "offer_check", {"offer_check": check}
            elif value == "report":
                self._start_report(out, state)
            elif value == "report_continue":
                self._report_ask(out, state)
            elif value in ("agent", "agent_again"):
                case = self._agent_case(self.agent.start(out, content, state))
            elif value == "agent_howto":
                case = self._agent_case(self.agent.button(out, content, state, "howto"))
            elif value == "language":
                self._language_picker(out, content)
            elif value == "topics":
                self._all_topics(out, content)
            else:
                self._menu(out, content)
        elif kind == "oc":
            self._check_button(out, content, state, value)
        elif kind == "ag":
            case = self._agent_case(self.agent.button(out, content, state, value))
        elif kind == "rf":
            sent = self._report_button(out, content, state, value)
            if sent is not None:
                escalation, reason, case = "high", "report", {"report": sent}
        elif kind == "dg":
            escalation, reason, case, topic = self._danger_answer(out, content, state, value == "yes")
        elif kind == "fb":  # 👍 / 👎 under an answer: once per answer
            record = feedback.press(state, value)
            if record is None:
                return Turn([], out.language)
            vote = {"vote": record["vote"], "topic": record["topic"]}
            if record["vote"] == "up":
                out.say(self._t(out, "Thank you for telling me."))
                return Turn(out.replies, out.language, vote=vote)
            out.say(self._t(out, "Sorry that this did not help. Your question goes to the SafeSafar team so that the "
                                 "answers get better. Would you like to ask a person?"),
                    [self._action_button(out, "human")], [self._action_button(out, "menu")])
            return Turn(out.replies, out.language, vote=vote, learn={"source": "not_helpful", **record})
        elif kind == "del":
            if value == "yes":
                state.__init__(state.user)  # the caller deletes what is stored; nothing is kept
                state.data["erased"] = True
                out.say(self._t(out, "Done: your conversation with the assistant is erased."))
            else:
                out.say(self._t(out, "Nothing was erased."))
        else:
            out.say(self._t(out, "That button has expired. Here is the menu."))
            self._menu(out, content)
        return Turn(out.replies, out.language, escalation=escalation, topic=topic, reason=reason, case=case)

    # -- free text -------------------------------------------------------------------------------
    async def _message(self, state: ConversationState, content: Content, text: str,
                       case: CaseView | None = None) -> Turn:
        result = await self.understander.understand(text, default_language=state.language or "en")
        if not state.language_chosen and not result.error and result.language != state.language:
            if state.language is None or (letters(clean(text).text) and not self.agent.names_a_firm(state, text)):
                state.language = result.language
        out = self._out(state, content, case)
        if result.error:
            out.say(self._t(out, "Please write your question in a few words."))
            return Turn(out.replies, out.language, result)
        pending = danger_check.take(state.data)
        if pending is not None and result.priority != "urgent" and result.intent in ("affirm", "deny") \
                and not result.fallback:  # a typed answer to "Is someone in danger right now?"
            escalation, reason, fired, topic = self._danger_answer(out, content, state, result.intent == "affirm", pending)
            return Turn(out.replies, out.language, result, escalation, topic, reason=reason, case=fired)
        listening = self._listening(content)
        self._note_abroad(state, result, text, listening)
        if case is not None and case.urgent:  # crisis mode: every message joins the case, in a few lines
            return self._crisis(out, content, state, text, result, listening)
        if result.priority == "urgent":
            state.misses = 0
            out.case = out.case or CaseView(0, "urgent", "new")  # the case opens with this turn: "Add to my case"
            if state.data.get("abroad") and not state.data.get("abroad_told"):
                # abroad: the embassy and a caution about local police first; the numbers at home second
                out.say(listening.answer(content, "crisis.abroad", out.language))
                state.data["abroad_told"] = True
            self._urgent(out, content, state)
            safety = result.safety
            reason = "safety_net" if safety is not None and safety.source.startswith("lexicon") else "emergency"
            fired = {"fired_by": safety.describe(), "fired_brief": safety.brief()} if safety is not None else {}
            return Turn(out.replies, out.language, result, "urgent", "emergency", reason=reason, case=fired)
        in_report = bool(state.flow and state.flow.get("name") == "report")  # its answers reach the hotline
        if result.safety is not None and result.safety.ask and not in_report:
            return self._ask_danger(out, content, state, result)
        if listening.hears("female_counsellor", text):
            return self._female_counsellor(out, state, result)
        aside = self._about_the_service(out, content, state, text, listening)
        if aside is not None:  # "are you a bot?", "does it cost?", "my phone is checked": also inside a form
            state.misses = 0
            if state.flow and state.flow.get("name") == "offer_check":
                self._ask_next(out, content, state)
            elif state.flow and state.flow.get("name") == "report":
                self._report_ask(out, state)
            return Turn(out.replies, out.language, result, topic=aside)
        if state.flow and state.flow.get("name") == "report" and not self._report_aside(content, state, text, result):
            sent = self._report_text(out, content, state, text, result)
            if sent is not None:
                return Turn(out.replies, out.language, result, "high", "report_suspect", reason="report",
                            case={"report": sent})
            return Turn(out.replies, out.language, result)
        if state.flow and state.flow.get("name") == "offer_check":
            checked = self.agent.offer_licence(out, content, state, text)  # a licence number typed at its question
            if checked is not None:
                self._ask_next(out, content, state)
                return Turn(out.replies, out.language, result, case=self._agent_case(checked))
            if self._check_text(out, content, state, text, result):
                return Turn(out.replies, out.language, result)
        if state.flow and state.flow.get("name") == "agent_check":
            other = (result.intent not in (None, "verify_agent") and not result.fallback
                     and result.confidence >= CONFIDENT and result.intent not in SOCIAL
                     and result.intent in content.by_intent)
            handled, record = self.agent.text(out, content, state, text, other_topic=other)
            if handled:
                return Turn(out.replies, out.language, result, topic="verify_agent", case=self._agent_case(record))
        intent = result.intent
        if not state.flow and self.agent.is_licence_query(text):  # "0848/LHR" alone: checked on the register
            record = self.agent.start(out, content, state, text)
            return Turn(out.replies, out.language, result, topic="verify_agent", case=self._agent_case(record))
        if self._job_or_study(result):  # both offer checks near the top: ask which, not "not sure"
            state.misses = 0
            self._start_check(out, content, state, None, text, result)
            return Turn(out.replies, out.language, result, topic="check_job_offer", learn={"source": "ask_back"})
        if self._describes_offer(result, text, listening) and intent not in FORMS:
            state.misses = 0
            kind = self._kind_word(text)
            self._start_check(out, content, state, kind, text, result)
            return Turn(out.replies, out.language, result, topic=f"check_{kind or 'job'}_offer")
        if result.fallback or intent is None:
            return self._fallback(out, content, state, result)
        state.misses = 0
        if intent in ("check_study_offer", "check_job_offer"):
            self._start_check(out, content, state, "study" if intent == "check_study_offer" else "job", text, result)
            return Turn(out.replies, out.language, result, topic=intent)
        if intent == "report_suspect":
            self._start_report(out, state)
            return Turn(out.replies, out.language, result, topic=intent)
        if intent == "verify_agent" and not state.flow:
            record = self.agent.start(out, content, state, text)
            return Turn(out.replies, out.language, result, topic=intent, case=self._agent_case(record))
        topic = content.topic_for(intent, clean(text).text)
        if topic is None:
            return self._fallback(out, content, state, result)
        extra = None
        if state.flow:  # a question aside: answered, with a button back to the open form
            back = "report_continue" if state.flow.get("name") == "report" else "offer_continue"
            extra = [self._action_button(out, back)]
        self._answer_or_recall(out, content, state, topic.id, extra)
        escalation = result.priority if result.priority in ("urgent", "normal") else None
        if escalation != "urgent":
            feedback.offer(out.replies, state, topic.id, text, result, Reply, Button)
        if escalation == "normal" and case is not None:
            escalation = None  # the open case already reaches a person
        return Turn(out.replies, out.language, result, escalation, topic.id,
                    reason="human" if escalation == "normal" else None)

    @staticmethod
    def _agent_case(record: dict | None) -> dict:
        """An agent check's result for the user's open case (bot/dialogue/agent_check.py)."""
        return {"agent_check": record} if record else {}

    def _urgent(self, out: _Out, content: Content, state: ConversationState) -> None:
        self._answer_topic(out, content, state, "emergency")
        if state.flow and state.flow.get("name") == "offer_check":
            out.say(self._t(out, "Your offer check is paused."), [self._action_button(out, "offer_continue")])
        elif state.flow and state.flow.get("name") == "report":
            out.say(self._t(out, "Your report is paused."), [self._action_button(out, "report_continue")])

    # -- the danger check (bot/dialogue/danger_check.py) -------------------------------------------
    def _ask_danger(self, out: _Out, content: Content, state: ConversationState, result: Understanding) -> Turn:
        """An ambiguous danger signal: the confirmed emergency numbers first, then the question."""
        state.misses = 0
        intent = result.intent if result.intent != "emergency" and not result.fallback else None
        danger_check.start(state.data, result.safety.describe(), result.safety.brief(), intent)
        numbers = danger_check.emergency_numbers(content, out.language)
        if numbers:
            out.say(self._t(out, "If someone is in danger right now, call:") + "\n"
                    + "\n".join(f"• {name}: {number}" for name, number in numbers))
        out.say(self._t(out, "Is someone in danger right now?"),
                [Button(self._t(out, "Yes"), "dg:yes"), Button(self._t(out, "No"), "dg:no")])
        return Turn(out.replies, out.language, result, learn={"source": "ask_back"})

    def _danger_answer(self, out: _Out, content: Content, state: ConversationState, yes: bool,
                       pending: dict | None = None) -> tuple[str | None, str | None, dict, str | None]:
        """Yes: an urgent case (also when the question was asked earlier: someone says there is danger).
        No: no case, and the message's own question is answered. Returns (escalation, reason, case, topic)."""
        if pending is None:
            pending = danger_check.take(state.data)
        if yes:
            self._urgent(out, content, state)
            return "urgent", "safety_net", danger_check.fired_by_yes(pending), "emergency"
        out.say(self._t(out, "Thank you. If that changes, write to me at any time: the SafeSafar team is there for you."))
        topic = content.by_intent.get((pending or {}).get("intent") or "")
        if topic is not None and topic.id != "emergency":
            self._answer_topic(out, content, state, topic.id)
            return None, None, {}, topic.id
        return None, None, {}, None

    @staticmethod
    def _form_question(state: ConversationState, listening: Listening, text: str) -> str | None:
        """A question about the report form, remembered as answered (the next one gets the next answer)."""
        said = state.data.setdefault("said", [])
        key = listening.form_question(text, said)
        if key and key not in said:
            said.append(key)
        return key

    def _about_the_service(self, out: _Out, content: Content, state: ConversationState, text: str,
                           listening: Listening) -> str | None:
        """Questions about the assistant itself, answered without opening anything. Returns the topic."""
        if listening.hears("bot_question", text):  # "are you a real person?": answered, no case opened
            out.say(self._t(out, "I am an automatic assistant, not a person. People from the SafeSafar team read "
                                 "the cases that reach them and answer in this chat. Would you like a person to "
                                 "answer you?"), [self._action_button(out, "human")], [self._action_button(out, "menu")])
            return "bot_capabilities"
        if listening.hears("cost_question", text):
            out.say(listening.answer(content, "cost_question", out.language))
            return "bot_capabilities"
        if listening.hears("phone", text):
            state.data["phone_checked"] = True
            out.say(listening.answer(content, "phone", out.language))
            return "privacy"
        if listening.hears("crisis.embassy", text) and listening.is_question(text):  # "embassy number in Libya?"
            topic = "abroad_in_trouble" if "abroad_in_trouble" in content.topics else None
            out.say(listening.answer(content, "crisis.embassy", out.language),
                    [self._topic_button(out, content, topic)] if topic else [])
            return topic or "hotline_info"
        return None

    @staticmethod
    def _describes_offer(result: Understanding, text: str, listening: Listening) -> bool:
        """A message that tells an offer (a country and an amount, not a question): "mere bete ko Italy ka
        work visa mil raha hai, agent 18 lakh mang raha hai" is the offer check's main use."""
        kinds = {e.get("entity") for e in result.entities or ()}
        return ({"country", "amount"} <= kinds and not listening.is_question(text)
                and result.intent in OFFER_LIKE | {None} | {"check_study_offer", "check_job_offer"})

    @staticmethod
    def _job_or_study(result: Understanding) -> bool:
        top = [intent for intent, _ in (result.ranking or [])[:2]]
        return (set(top) == {"check_job_offer", "check_study_offer"}
                and (result.fallback or result.confidence < CONFIDENT))

    @staticmethod
    def _note_abroad(state: ConversationState, result: Understanding, text: str, listening: Listening) -> None:
        """Remember that the user is abroad: a country other than Pakistan named with "I am in", "yahan ...
        mein", "locked in a house in Tripoli" (the advice for abroad comes first). A country alone ("a Dubai
        visa") does not say where the user is."""
        if not listening.hears("abroad", text):
            return
        for entity in result.entities or ():
            if entity.get("entity") == "country" and entity.get("value") and entity["value"] != "Pakistan":
                state.data["abroad"] = str(entity["value"])

    # -- crisis mode: an urgent case is open -----------------------------------------------------
    def _expectation(self, out: _Out) -> str:
        """What happens next, honestly: nobody has the case yet, or someone has it."""
        case = out.case
        if case.status in ("claimed",):
            return self._t(out, "A person from the SafeSafar team has your case and will write to you here.")
        if case.status == "waiting":
            return self._t(out, "The SafeSafar team has written to you here: please answer them in this chat.")
        minutes = case.target_minutes or 5
        return self._t(out, "Nobody from the team has taken your case yet. Urgent cases are answered here within "
                            "about {minutes} minutes; you will get a message in this chat.",
                       minutes=self.i18n.number(minutes, out.language))

    def _crisis(self, out: _Out, content: Content, state: ConversationState, text: str, result: Understanding,
                listening: Listening) -> Turn:
        """Every message joins the urgent case: one short acknowledgement, then at most two lines that
        matter now (the answer to "should I run?", the phone, the embassy, what to expect, staying safe).
        Never the offer check, never out of scope, never the long emergency page again."""
        state.misses = 0
        details = (bool(result.entities) or any(ch.isdigit() for ch in text)) and not listening.is_question(text)
        if details:
            lines = [self._t(out, "Added to your case #{case}, with the details you gave (place, people, numbers). "
                                  "The SafeSafar team has been alerted.", case=out.case.id)]
        else:
            lines = [self._t(out, "Added to your case #{case}. The SafeSafar team has been alerted.",
                             case=out.case.id)]
        extra: list[Button] = []
        entities: list[dict] = []
        asked = self._form_question(state, listening, text)
        if asked:  # "will the agent know it was me?"
            lines.append(listening.answer(content, asked, out.language))
        elif listening.hears("crisis.run", text):
            lines.append(listening.answer(content, "crisis.run", out.language))
            lines.append(self._expectation(out))
        elif listening.hears("phone", text):
            state.data["phone_checked"] = True
            lines.append(listening.answer(content, "phone", out.language))
        elif listening.hears("crisis.embassy", text):
            lines.append(listening.answer(content, "crisis.embassy", out.language))
        elif listening.hears("female_counsellor", text):
            lines.append(self._t(out, "Your request is noted: a woman from the SafeSafar team will answer you if one "
                                      "is available."))
            entities.append({"entity": "request", "value": "female counsellor"})
        elif (result.intent and not result.fallback and result.confidence >= CONFIDENT
              and result.intent not in SOCIAL | FORMS | {"emergency", "ask_human", "hotline_info"}
              and result.intent in content.by_intent and result.priority != "urgent"):
            out.say(lines[0])  # a question on a topic: the acknowledgement, then the short answer
            topic = content.by_intent[result.intent].id
            self._answer_or_recall(out, content, state, topic)
            last = out.replies[-1]  # never the offer check in crisis mode
            rows = tuple(tuple(b for b in row if not b.payload.startswith(("act:offer_check", "oc:")))
                         for row in last.buttons)
            out.replies[-1] = Reply(last.text, tuple(row for row in rows if row), last.language, last.rtl)
            return Turn(out.replies, out.language, result, topic=topic, case_told=True, entities=entities)
        else:
            lines.append(self._expectation(out))
            if state.data.get("abroad") and not state.data.get("abroad_told"):  # abroad: the embassy first
                lines.append(listening.answer(content, "crisis.abroad", out.language))
                state.data["abroad_told"] = True
            elif not state.data.get("crisis_told"):
                lines.append(listening.answer(content, "crisis.stay_safe", out.language))
        state.data["crisis_told"] = True
        if state.data.get("abroad") and "abroad_in_trouble" in content.topics:
            extra.append(self._topic_button(out, content, "abroad_in_trouble"))
        out.say("\n\n".join(line for line in lines if line), [self._action_button(out, "hotline")] + extra)
        return Turn(out.replies, out.language, result, topic="emergency", case_told=True, entities=entities)

    def _female_counsellor(self, out: _Out, state: ConversationState, result: Understanding) -> Turn:
        """An explicit request for a person: recorded on the case (staff see it), honestly answered."""
        state.misses = 0
        out.say(self._t(out, "Your request is noted: a woman from the SafeSafar team will answer you if one is "
                             "available. Write here what you would like to tell her."))
        escalation = None if out.case else "normal"
        return Turn(out.replies, out.language, result, escalation, "ask_human", reason="human",
                    case_told=out.case is not None, entities=[{"entity": "request", "value": "female counsellor"}])

    def _fallback(self, out: _Out, content: Content, state: ConversationState, result: Understanding) -> Turn:
        state.misses += 1
        if state.misses >= 2:
            state.misses = 0
            out.say(self._t(out, "Sorry, I still did not understand. Someone from the SafeSafar team can help you, "
                                 "or choose a topic from the menu."),
                    [Button(self._t(out, "Talk to the SafeSafar team"), "act:human:fallback")], [self._action_button(out, "menu")])
            return Turn(out.replies, out.language, result, learn={"source": "fallback"})
        options = []
        for intent, _conf in result.ranking:
            topic = content.by_intent.get(intent)
            if topic and intent not in SOCIAL and topic.id not in options:
                options.append(topic.id)
            if len(options) == 2:
                break
        buttons = [self._topic_button(out, content, t) for t in options]
        out.say(self._t(out, "I am not sure I understood. Did you mean one of these?"), buttons,
                [self._action_button(out, "menu")])
        return Turn(out.replies, out.language, result, learn={"source": "ask_back" if buttons else "fallback"})

    # -- the offer check -------------------------------------------------------------------------
    @staticmethod
    def _check(content: Content) -> OfferCheck:
        """The offer check of this content snapshot (built once: its phrases are compiled)."""
        check = content.derived.get("offer_check")
        if check is None:
            check = content.derived["offer_check"] = OfferCheck(content.offer_check)
        return check

    def _start_check(self, out: _Out, content: Content, state: ConversationState, kind: str | None, text: str,
                     result: Understanding | None = None) -> None:
        check = self._check(content)
        flow = {"name": "offer_check", **check.start(kind)}
        state.flow = flow
        intro_topic = {"study": "check_study_offer", "job": "check_job_offer"}.get(kind or "")
        if intro_topic and intro_topic in content.topics:
            out.say(content.answer(intro_topic, out.language))
        told = self._told(out, result)
        if told:
            flow["told"] = told
        found = check.prefill(flow, text) if text else []
        if told or found:  # shown above the first question, in the same message, and changeable
            lines = [self._t(out, "From what you told me:")]
            if told:
                lines.append("• " + " · ".join(told))
            lines += ["• " + content.render(content.pick(check.by_id[q].text(check.by_id[q].reason, kind or "job"),
                                                         out.language), out.language) for q in found]
            self._ask_next(out, content, state, "\n".join(lines),
                           Button(self._t(out, "That is wrong: start again"), "oc:restart"))
            return
        self._ask_next(out, content, state)

    def _told(self, out: _Out, result: Understanding | None) -> list[str]:
        """What the first message said that the check carries: countries and amounts."""
        told: list[str] = []
        for entity in (result.entities if result is not None else None) or ():
            if entity.get("entity") == "country" and entity.get("value"):
                value = str(entity["value"])
            elif entity.get("entity") == "amount" and entity.get("number") is not None:
                value = f"{self.i18n.number(int(entity['number']), out.language)} {entity.get('currency') or ''}".strip()
            else:
                continue
            if value not in told:
                told.append(value)
        return told[:4]

    def _ask_next(self, out: _Out, content: Content, state: ConversationState, lead: str = "",
                  change: Button | None = None) -> None:
        """The check's next question, in one message with `lead` above it (what was noted) and a
        `change` button for the answer just given."""
        flow = state.flow
        if not flow or flow.get("name") != "offer_check":
            self._menu(out, content)
            return
        check = self._check(content)
        if not flow.get("kind"):
            out.say((lead + "\n\n" if lead else "") + self._t(out, "Is it a study offer (admission, scholarship) or a job offer?"),
                    [Button(self._t(out, "Study"), "oc:kind:study"), Button(self._t(out, "Job"), "oc:kind:job")],
                    [Button(self._t(out, "Stop the check"), "oc:stop")])
            return
        question = check.next_question(flow)
        if question is None:
            if lead:
                out.say(lead, [change] if change else [])
            self._result(out, content, state)
            return
        done, total = check.progress(flow)
        header = self._t(out, "Question {n} of {total}", n=self.i18n.number(done + 1, out.language),
                         total=self.i18n.number(total, out.language))
        text = content.render(content.pick(question.text(question.ask, flow["kind"]), out.language), out.language)
        flow["asking"] = question.id
        kind = flow["kind"]
        yes = question.label("yes", kind)
        no = question.label("no", kind)
        out.say((lead + "\n\n" if lead else "") + f"{header}\n{text}",
                [Button(content.pick(yes, out.language) if yes else self._t(out, "Yes"), f"oc:yes:{question.id}"),
                 Button(content.pick(no, out.language) if no else self._t(out, "No"), f"oc:no:{question.id}")],
                [Button(self._t(out, "Not sure"), f"oc:unsure:{question.id}"),
                 Button(self._t(out, "Stop the check"), "oc:stop")],
                [change] if change else [])

    def _check_button(self, out: _Out, content: Content, state: ConversationState, value: str) -> None:
        flow = state.flow
        parts = value.split(":")
        if parts[0] == "stop":
            state.flow = None
            out.say(self._t(out, "The check is stopped. You can start it again any time with /check."))
            self._menu(out, content)
            return
        if not flow or flow.get("name") != "offer_check":
            out.say(self._t(out, "That check is over. Start a new one?"), [self._action_button(out, "offer_check")])
            return
        if parts[0] == "restart":
            state.flow = {"name": "offer_check", **self._check(content).start(None)}
        elif parts[0] == "undo" and len(parts) > 1:  # "Change": that question is asked again
            flow["answers"].pop(parts[1], None)
            flow.get("notes", {}).pop(parts[1], None)
        elif parts[0] == "kind" and len(parts) > 1 and parts[1] in KINDS:
            flow["kind"] = parts[1]
        elif (parts[0] in ANSWERS and len(parts) > 1 and parts[1] == flow.get("asking")
              and parts[1] in self._check(content).by_id):  # a question an edit removed is not answered
            self._check(content).answer(flow, parts[1], parts[0])
        # a stale button (an earlier question) is ignored: the current question is asked again
        self._ask_next(out, content, state)

    def _check_text(self, out: _Out, content: Content, state: ConversationState, text: str,
                    result: Understanding) -> bool:
        """Typed text while the check is open. True if the check handled it.

        A typed answer is read for its meaning and repeated back ("Noted: No contract", with Change);
        a detail after it ("haan 9 lakh cash abhi mang raha hai") is kept as a note on the check; a
        question is answered and the check's question asked again; a feeling is acknowledged in a line."""
        flow = state.flow
        check = self._check(content)
        listening = self._listening(content)
        if not flow.get("kind"):
            if result.intent in ("check_study_offer", "check_job_offer") or self._kind_word(text):
                flow["kind"] = self._kind_word(text) or ("study" if result.intent == "check_study_offer" else "job")
                check.prefill(flow, text)
                self._ask_next(out, content, state)
                return True
        else:
            asking = flow.get("asking")
            typed = listening.typed_answer(text)
            answer = typed.value if typed else self._typed_answer(content, text, result)
            if answer and asking in check.by_id and not (listening.is_question(text) and typed is None):
                check.answer(flow, asking, answer)
                also = []
                if typed and typed.note:
                    flow.setdefault("notes", {})[asking] = typed.note[:300]
                    also = check.prefill(flow, typed.note)  # "nahi, koi contract nahi diya": the contract too
                question = check.by_id[asking]
                label = question.label(answer, flow["kind"]) if answer in ("yes", "no") else {}
                shown = (content.pick(label, out.language) if label else
                         {"yes": self._t(out, "Yes"), "no": self._t(out, "No"), "unsure": self._t(out, "Not sure")}[answer])
                said = self._t(out, "Noted: {answer}", answer=shown)
                if typed and typed.note:
                    said += "\n" + self._t(out, "I also kept what you added as a note on this check.")
                said += "".join("\n• " + content.render(content.pick(check.by_id[q].text(check.by_id[q].reason,
                                                                                          flow["kind"]), out.language),
                                                          out.language) for q in also)
                self._ask_next(out, content, state, said, Button(self._t(out, "Change"), f"oc:undo:{asking}"))
                return True
        if listening.hears("feelings", text) and not listening.is_question(text):
            self._ask_next(out, content, state, self._t(
                out, "I understand that this is worrying. Checking before you pay is the right step; let us go on."))
            return True
        if result.intent in ("thank", "greet") and not result.fallback and flow.get("kind"):  # not a form error
            self._ask_next(out, content, state, self._t(
                out, "You are welcome. A few more questions and you will have the result, or press Stop the check."))
            return True
        if (result.intent and not result.fallback and result.confidence >= CONFIDENT and result.intent not in SOCIAL
                and result.intent not in FORMS):
            topic = content.by_intent.get(result.intent)
            if topic is not None and listening.is_question(text):  # a question inside the check: answered, then
                self._answer_or_recall(out, content, state, topic.id)  # the check's question again
                self._ask_next(out, content, state)
                return True
            return False  # another topic: answered normally, with a button back to the check
        if flow.get("kind"):
            self._ask_next(out, content, state, self._t(out, "I did not catch a yes or a no there. You can type "
                                                             "yes, no or not sure, or press a button."))
        else:
            self._ask_next(out, content, state)
        return True

    @staticmethod
    def _kind_word(text: str) -> str | None:
        words = set(clean(text).text.lower().split())
        if words & {"job", "naukri", "kaam", "work", "نوکری", "ملازمت", "کام"}:
            return "job"
        if words & {"study", "admission", "university", "parhai", "parhai", "داخلہ", "تعلیم", "پڑھائی"}:
            return "study"
        return None

    def _typed_answer(self, content: Content, text: str, result: Understanding) -> str | None:
        if self._check(content).unsure.find(text):
            return "unsure"
        if result.intent == "affirm":
            return "yes"
        if result.intent == "deny":
            return "no"
        return None

    def _result(self, out: _Out, content: Content, state: ConversationState) -> None:
        flow = state.flow
        check = self._check(content)
        scored = check.score(flow)
        kind = flow["kind"]
        spec = content.offer_check
        lines = [content.pick(spec["levels"][scored.level], out.language)]
        if scored.reasons:  # the answers that raised it, and the red flags that count together
            lines.append("")
            lines.append(self._t(out, "Why:"))
            lines += ["• " + content.render(content.pick(q.text(q.reason, kind), out.language), out.language)
                      for q in scored.reasons]
            lines += ["• " + content.render(content.pick(variant(c.reason, kind), out.language), out.language)
                      for c in scored.combinations]
        if scored.unsure:
            lines.append("")
            lines.append(self._t(out, "You were not sure about these; find out before you go on:"))
            lines += ["• " + content.render(content.pick(q.text(q.reason, kind), out.language), out.language)
                      for q in scored.unsure]
        lines.append("")
        lines.append(self._t(out, "What to do next:"))
        lines.append(content.render(content.pick(spec["next_steps"][kind], out.language), out.language).strip())
        lines.append(content.render(content.pick(spec["next_steps"]["report"], out.language), out.language).strip())
        rows = []
        if scored.level == "high":
            rows.append([Button(self._t(out, "Pass it to the SafeSafar team"), "act:pass_check")])
        how_to_check = "verify_agent" if kind == "job" else "study_abroad"
        row = [self._topic_button(out, content, how_to_check)] if how_to_check in content.topics else []
        rows.append(row + [self._action_button(out, "menu")])
        out.say("\n".join(lines).strip(), *rows)
        state.data["last_offer_check"] = {"kind": kind, "level": scored.level, "total": scored.total,
                                          "answers": dict(flow["answers"]), "breakdown": scored.breakdown}
        if flow.get("notes"):  # details typed with the answers, for the team
            state.data["last_offer_check"]["notes"] = dict(flow["notes"])
        if flow.get("told"):
            state.data["last_offer_check"]["told"] = list(flow["told"])
        state.flow = None

    # -- the report form -------------------------------------------------------------------------
    def _start_report(self, out: _Out, state: ConversationState) -> None:
        state.flow = report_form.start()
        out.say(self._t(out, "Let us write your report for the SafeSafar team: five short questions. You can skip a "
                             "question or cancel at any time. Nothing is sent until you press Send. (To file a "
                             "complaint with the FIA, call the FIA anti-trafficking hotline; we can help you prepare "
                             "it.)"))
        self._report_ask(out, state)

    def _report_field_label(self, out: _Out, name: str) -> str:
        return {"what": self._t(out, "What happened"), "who": self._t(out, "Agent or company"),
                "where": self._t(out, "Where"), "money": self._t(out, "Money paid"),
                "contact": self._t(out, "The SafeSafar team may contact you")}[name]

    def _report_ask(self, out: _Out, state: ConversationState, lead: str = "") -> None:
        flow = state.flow
        if not flow or flow.get("name") != "report":
            out.say(self._t(out, "That report is over. Start a new one?"), [self._action_button(out, "report")])
            return
        cancel = [Button(self._t(out, "Cancel the report"), "rf:cancel")]
        step = flow["step"]
        if step == "review":
            answers = report_form.result(flow)
            lines = [self._t(out, "Please check your report before you send it:")]
            for name in report_form.FIELDS:
                value = answers.get(name)
                if name == "contact":
                    shown = self._t(out, "Yes") if value else self._t(out, "No")
                else:
                    shown = value if value else self._t(out, "(skipped)")
                lines.append(f"• {self._report_field_label(out, name)}: {shown}")
            lines += ["", self._t(out, "Send it to the SafeSafar team?")]
            out.say("\n".join(lines), [Button(self._t(out, "Send to the SafeSafar team"), "rf:send")],
                    [Button(self._t(out, "Change an answer"), "rf:change")], cancel)
            return
        if step == "choose":
            out.say(self._t(out, "Which answer do you want to change?"),
                    *[[Button(self._report_field_label(out, name), f"rf:edit:{name}")] for name in report_form.FIELDS],
                    cancel)
            return
        header = self._t(out, "Report: question {n} of {total}", n=self.i18n.number(report_form.number(step), out.language),
                         total=self.i18n.number(len(report_form.FIELDS), out.language))
        prompts = {
            "what": self._t(out, "What happened? Describe it in a few sentences: what was promised, what was asked "
                                 "of you, what went wrong."),
            "who": self._t(out, "What is the name of the agent, company or person? Skip if you do not know."),
            "where": self._t(out, "Where did it happen, or where are they based? A city, an office, a country."),
            "money": self._t(out, "Did you pay any money? How much, and how (cash, bank, mobile wallet)? Skip if "
                                  "you paid nothing."),
            "contact": self._t(out, "May the SafeSafar team contact you about this report in this chat?"),
        }
        if step == "contact":
            rows = [[Button(self._t(out, "Yes"), "rf:yes"), Button(self._t(out, "No"), "rf:no")]]
        elif report_form.can_skip(step):
            rows = [[Button(self._t(out, "Skip"), "rf:skip")]]
        else:
            rows = []
        out.say((lead + "\n\n" if lead else "") + f"{header}\n{prompts[step]}", *rows, cancel)

    def _report_cancel(self, out: _Out, content: Content, state: ConversationState) -> None:
        state.flow = None
        out.say(self._t(out, "Your report is cancelled. Nothing was sent."))
        self._menu(out, content)

    def _report_button(self, out: _Out, content: Content, state: ConversationState, value: str) -> dict | None:
        """A button of the report form. Returns the report when it is sent."""
        flow = state.flow
        if value == "cancel":
            if flow and flow.get("name") == "report":
                self._report_cancel(out, content, state)
            else:
                self._menu(out, content)
            return None
        if not flow or flow.get("name") != "report":
            out.say(self._t(out, "That report is over. Start a new one?"), [self._action_button(out, "report")])
            return None
        step = flow["step"]
        if value == "send" and step == "review":
            report = report_form.result(flow)
            state.flow = None
            state.data["last_report"] = report
            return report
        if value == "change" and step == "review":
            flow["step"] = "choose"
        elif value.startswith("edit:") and step == "choose":
            report_form.edit(flow, value.removeprefix("edit:"))
        elif value == "skip" and report_form.can_skip(step):
            report_form.answer(flow, None)
        elif value in ("yes", "no") and step == "contact":
            report_form.answer(flow, value == "yes")
        # anything else is a stale button: the current step is asked again
        self._report_ask(out, state)
        return None

    @staticmethod
    def _report_aside(content: Content, state: ConversationState, text: str, result: Understanding) -> bool:
        """A question on another topic, typed where the report form waits for a button (may the hotline
        call back, the review): it is answered, and the report waits with a button back to it. Where the
        form asks for text, the text is the answer."""
        step = state.flow.get("step")
        if (step in report_form.FIELDS and step != "contact") or report_form.is_cancel(text):
            return False
        intent = result.intent
        return (intent is not None and not result.fallback and result.confidence >= CONFIDENT
                and intent not in SOCIAL and intent not in FORMS and intent in content.by_intent)

    def _report_text(self, out: _Out, content: Content, state: ConversationState, text: str,
                     result: Understanding) -> dict | None:
        """Typed text while the report form is open (urgent messages were handled before)."""
        flow = state.flow
        step = flow["step"]
        if report_form.is_cancel(text):
            self._report_cancel(out, content, state)
            return None
        listening = self._listening(content)
        asked = self._form_question(state, listening, text)
        if asked:  # "will the agent know it was me?": answered, then the form's question again
            self._report_ask(out, state, listening.answer(content, asked, out.language))
            return None
        if listening.is_question(text) and step != "what":
            topic = content.by_intent.get(result.intent or "")
            if topic is not None and not result.fallback and result.intent not in SOCIAL | FORMS:
                self._answer_or_recall(out, content, state, topic.id)
                self._report_ask(out, state)
                return None
        if listening.hears("feelings", text) and len(clean(text).text.split()) <= 8 and step != "what":
            self._report_ask(out, state, self._t(out, "I understand; this is not easy. Take your time."))
            return None
        lead = ""
        if step in report_form.FIELDS and step != "contact":
            if not clean(text).text.strip():
                lead = self._t(out, "Please write a few words about what happened.")
            else:
                report_form.answer(flow, clean(text).text)
        elif step == "contact" and (listening.typed_answer(text) or result.intent in ("affirm", "deny")):
            typed = listening.typed_answer(text)
            yes = typed.value == "yes" if typed and typed.value != "unsure" else result.intent == "affirm"
            if typed and typed.value == "unsure":
                lead = self._t(out, "May the SafeSafar team write to you here about this report? Yes or no.")
            else:
                report_form.answer(flow, yes)
        else:
            lead = self._t(out, "May the SafeSafar team write to you here about this report? Yes or no.")
        self._report_ask(out, state, lead)
        return None
