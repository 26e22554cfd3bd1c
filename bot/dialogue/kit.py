"""What every part of the conversation shares: the content snapshot and its catalogs, the replies'
language, the buttons, topic answers, the menu and the emergency answer. The router, the free-text
policy and the flows render through one Kit."""
from __future__ import annotations

from ..i18n import I18n
from .content import ACTIONS, Content, ContentStore
from .flow import FlowRegistry
from .listening import Listening
from .offer_check import check_of
from .replies import Button, CaseView, Out
from .state import ConversationState

CONFIDENT = 0.6  # a different topic this sure interrupts an open flow
FORMS = {"check_study_offer", "check_job_offer", "report_suspect"}  # they would replace the open form
SOCIAL = {"greet", "goodbye", "thank", "affirm", "deny", "out_of_scope", "bot_capabilities"}
MENU_TOPICS = ("warning_signs", "irregular_route", "verify_agent", "hotline_info")


class Kit:
    def __init__(self, content_store: ContentStore, i18n: I18n, flows: FlowRegistry):
        self.content_store = content_store
        self.i18n = i18n
        self.flows = flows

    def content(self) -> Content:
        """The current content snapshot, its catalogs configured for the turn."""
        content = self.content_store.get()
        self.i18n.configure({c: l.catalog for c, l in content.languages.items()},
                            {c: l.babel for c, l in content.languages.items()},
                            {c: l.fallback for c, l in content.languages.items() if l.fallback and l.fallback != "en"})
        return content

    def out(self, state: ConversationState, content: Content, case: CaseView | None = None) -> Out:
        lang = state.language if state.language in content.languages else "en"
        return Out(lang, content.languages[lang].rtl, case=case)

    def listening(self, content: Content) -> Listening:
        return Listening.of(content, check_of(content).unsure if content.offer_check else None)

    def t(self, out: Out, message: str, **values) -> str:
        return self.i18n.tr(out.language, message, **values)

    def topic_button(self, out: Out, content: Content, topic_id: str) -> Button:
        return Button(content.title(topic_id, out.language), f"topic:{topic_id}")

    def action_button(self, out: Out, action: str) -> Button:
        """An "act:<action>" button: the router's own actions, or one a flow answers (labelled by it)."""
        flow = self.flows.by_action(action)
        if flow is not None:
            return Button(flow.action_label(out, action), f"act:{action}")
        labels = {
            "hotline": self.t(out, "Numbers to call"),
            "human": self.t(out, "Add to my case") if out.case else self.t(out, "Talk to the SafeSafar team"),
            "menu": self.t(out, "Main menu"),
            "language": self.t(out, "Language"),
            "topics": self.t(out, "All topics"),
        }
        return Button(labels[action], f"act:{action}")

    def buttons(self, out: Out, content: Content, specs: list[dict]) -> list[Button]:
        buttons = []
        for spec in specs:
            if "topic" in spec and spec["topic"] in content.topics:
                buttons.append(self.topic_button(out, content, spec["topic"]))
            elif spec.get("action") in ACTIONS:
                buttons.append(self.action_button(out, spec["action"]))
        return buttons

    def footer(self, out: Out, content: Content, topic_id: str) -> str:
        topic = content.topics[topic_id]
        if not topic.reviewed:
            return ""
        pattern = content.languages[out.language].date_format
        return self.t(out, "Reviewed: {date}", date=self.i18n.date(topic.reviewed, out.language, pattern))

    def sources(self, out: Out, content: Content, topic_id: str) -> str:
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
        return (self.t(out, "Sources:") + "\n" + "\n".join(lines)) if lines else ""

    def answer_topic(self, out: Out, content: Content, state: ConversationState, topic_id: str,
                     extra: list[Button] | None = None) -> None:
        """The short answer (the action first); details and sources sit behind the "More" button."""
        text = content.answer(topic_id, out.language)
        if state.data.get("phone_checked"):  # no "keep screenshots" for someone whose phone is checked
            text = self.listening(content).phone_safe(text)
        footer = self.footer(out, content, topic_id) if topic_id not in SOCIAL else ""
        if footer:
            text = f"{text}\n\n{footer}"
        buttons = self.buttons(out, content, content.topics[topic_id].buttons)
        for flow in self.flows:  # "Check an agent" under verify_agent, while the register can be checked
            action = flow.topic_action(topic_id)
            if action:
                buttons.insert(0, self.action_button(out, action))
        if content.more(topic_id, out.language) or self.sources(out, content, topic_id):
            buttons.insert(0, Button(self.t(out, "More"), f"more:{topic_id}"))
        out.say(text, buttons[:2], buttons[2:] + (extra or []))
        state.last_topic = topic_id
        seen = state.data.setdefault("seen", [])
        if topic_id not in seen and topic_id not in SOCIAL:
            seen.append(topic_id)

    def answer_or_recall(self, out: Out, content: Content, state: ConversationState, topic_id: str,
                         extra: list[Button] | None = None) -> None:
        """A topic asked again in words: a short pointer to the answer above, not the same long page
        (a button shows it again). A pressed topic button always shows the page."""
        if topic_id in state.data.get("seen", ()) and topic_id not in SOCIAL | {"emergency"}:
            out.say(self.t(out, "I answered this above (“{title}”). Ask me about the part that is still unclear, "
                                "or see the answer again.", title=content.title(topic_id, out.language)),
                    [Button(self.t(out, "Show it again"), f"topic:{topic_id}")], extra or [])
            state.last_topic = topic_id
            return
        self.answer_topic(out, content, state, topic_id, extra)

    def more(self, out: Out, content: Content, topic_id: str, state: ConversationState | None = None) -> None:
        more = content.more(topic_id, out.language)
        if more and state is not None and state.data.get("phone_checked"):
            more = self.listening(content).phone_safe(more)
        parts = [more, self.sources(out, content, topic_id)]
        buttons = self.buttons(out, content, content.topics[topic_id].buttons)
        out.say("\n\n".join(p for p in parts if p), buttons[:2], buttons[2:] + [self.action_button(out, "menu")])

    def menu(self, out: Out, content: Content) -> None:
        topics = [self.topic_button(out, content, t) for t in MENU_TOPICS if t in content.topics]
        out.say(self.t(out, "What would you like to do?"),
                [self.action_button(out, "offer_check"), self.action_button(out, "agent")],
                [self.action_button(out, "report")],
                topics[:2], topics[2:], [self.action_button(out, "topics"), self.action_button(out, "language")])

    def all_topics(self, out: Out, content: Content) -> None:
        buttons = [self.topic_button(out, content, t) for t in content.menu_topics()]
        out.say(self.t(out, "Choose a topic:"), *[[b] for b in buttons], [self.action_button(out, "menu")])

    def language_picker(self, out: Out, content: Content) -> None:
        out.say(self.t(out, "Choose your language"),
                [Button(lang.name, f"lang:{code}") for code, lang in content.languages.items()])

    def urgent(self, out: Out, content: Content, state: ConversationState) -> None:
        """The emergency answer; an open flow says it is paused, with a button back to it."""
        self.answer_topic(out, content, state, "emergency")
        flow = self.flows.of(state)
        if flow is not None:
            flow.pause(out)

    @staticmethod
    def form_question(state: ConversationState, listening: Listening, text: str) -> str | None:
        """A question about the report form, remembered as answered (the next one gets the next answer)."""
        said = state.data.setdefault("said", [])
        key = listening.form_question(text, said)
        if key and key not in said:
            said.append(key)
        return key
