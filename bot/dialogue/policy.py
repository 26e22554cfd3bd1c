"""The free-text policy: what to do with a typed message once it is understood.

    understanding (language, intent, entities, safety) ->
      an answer to "Is someone in danger right now?" | crisis mode (an urgent case is open) | an emergency
      | an ambiguous danger signal (asked about) | a request for a woman counsellor | a question about the
      service | the open flow's own text (flow.py) | a licence number | an offer described | a topic answered
      (with a button back to the open flow) | a fallback (ask back; a person after two misses)

Flows are reached through the registry by name (kit.flows); this module only decides when they start.
"""
from __future__ import annotations

from ..text import clean, letters
from ..understanding import Understanding
from .agent_check import AgentCheck, case_of
from .content import Content
from . import feedback
from .danger_check import DangerCheck, take
from .kit import CONFIDENT, FORMS, SOCIAL, Kit
from .listening import Listening
from .offer_flow import OfferCheckFlow, kind_word
from .replies import Button, CaseView, Out, Reply, Turn
from .report_flow import ReportFlow
from .state import ConversationState

# intents a description of an offer is often taken for (a country and an amount make it an offer)
OFFER_LIKE = {"agent_fees", "visa_rules", "safe_migration", "study_abroad", "verify_agent", "passport_documents",
              "warning_signs", "out_of_scope"}


class FreeText:
    def __init__(self, kit: Kit, understander):
        self.kit = kit
        self.understander = understander

    @property
    def offer(self) -> OfferCheckFlow:
        return self.kit.flows["offer_check"]

    @property
    def report(self) -> ReportFlow:
        return self.kit.flows["report"]

    @property
    def agent(self) -> AgentCheck:
        return self.kit.flows["agent_check"]

    @property
    def danger(self) -> DangerCheck:
        return self.kit.flows["danger_check"]

    async def message(self, state: ConversationState, content: Content, text: str,
                      case: CaseView | None = None) -> Turn:
        result = await self.understander.understand(text, default_language=state.language or "en")
        if not state.language_chosen and not result.error and result.language != state.language:
            if state.language is None or (letters(clean(text).text) and not self.agent.names_a_firm(state, text)):
                state.language = result.language
        out = self.kit.out(state, content, case)
        if result.error:
            out.say(self.kit.t(out, "Please write your question in a few words."))
            return Turn(out.replies, out.language, result)
        pending = take(state.data)
        if pending is not None and result.priority != "urgent" and result.intent in ("affirm", "deny") \
                and not result.fallback:  # a typed answer to "Is someone in danger right now?"
            escalation, reason, fired, topic = self.danger.answer(out, content, state, result.intent == "affirm",
                                                                  pending)
            return Turn(out.replies, out.language, result, escalation, topic, reason=reason, case=fired)
        listening = self.kit.listening(content)
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
            self.kit.urgent(out, content, state)
            safety = result.safety
            reason = "safety_net" if safety is not None and safety.source.startswith("lexicon") else "emergency"
            fired = {"fired_by": safety.describe(), "fired_brief": safety.brief()} if safety is not None else {}
            return Turn(out.replies, out.language, result, "urgent", "emergency", reason=reason, case=fired)
        flow = self.kit.flows.of(state)
        if result.safety is not None and result.safety.ask and (flow is None or flow.danger_question):
            return self.danger.ask(out, content, state, result)
        if listening.hears("female_counsellor", text):
            return self._female_counsellor(out, state, result)
        aside = self._about_the_service(out, content, state, text, listening)
        if aside is not None:  # "are you a bot?", "does it cost?", "my phone is checked": also inside a form
            state.misses = 0
            if flow is not None:
                flow.resume(out, content, state)
            return Turn(out.replies, out.language, result, topic=aside)
        if flow is not None:  # the open flow's own text: an answer, a typed button, a question inside it
            turn = flow.text(out, content, state, text, result)
            if turn is not None:
                return turn
        intent = result.intent
        if not state.flow and self.agent.is_licence_query(text):  # "0848/LHR" alone: checked on the register
            record = self.agent.start(out, content, state, text)
            return Turn(out.replies, out.language, result, topic="verify_agent", case=case_of(record))
        if self._job_or_study(result):  # both offer checks near the top: ask which, not "not sure"
            state.misses = 0
            self.offer.start(out, content, state, None, text, result)
            return Turn(out.replies, out.language, result, topic="check_job_offer", learn={"source": "ask_back"})
        if self._describes_offer(result, text, listening) and intent not in FORMS:
            state.misses = 0
            kind = kind_word(text)
            self.offer.start(out, content, state, kind, text, result)
            return Turn(out.replies, out.language, result, topic=f"check_{kind or 'job'}_offer")
        if result.fallback or intent is None:
            return self._fallback(out, content, state, result)
        state.misses = 0
        if intent in ("check_study_offer", "check_job_offer"):
            self.offer.start(out, content, state, "study" if intent == "check_study_offer" else "job", text, result)
            return Turn(out.replies, out.language, result, topic=intent)
        if intent == "report_suspect":
            self.report.start(out, state)
            return Turn(out.replies, out.language, result, topic=intent)
        if intent == "verify_agent" and not state.flow:
            record = self.agent.start(out, content, state, text)
            return Turn(out.replies, out.language, result, topic=intent, case=case_of(record))
        topic = content.topic_for(intent, clean(text).text, result.detail)
        if topic is None:
            return self._fallback(out, content, state, result)
        extra = None
        flow = self.kit.flows.of(state)  # a flow may have closed itself on this message
        if flow is not None and flow.continue_action:  # a question aside: answered, with a button back to it
            extra = [self.kit.action_button(out, flow.continue_action)]
        self.kit.answer_or_recall(out, content, state, topic.id, extra)
        escalation = result.priority if result.priority in ("urgent", "normal") else None
        if escalation != "urgent":
            feedback.offer(out.replies, state, topic.id, text, result, Reply, Button)
        if escalation == "normal" and case is not None:
            escalation = None  # the open case already reaches a person
        return Turn(out.replies, out.language, result, escalation, topic.id,
                    reason="human" if escalation == "normal" else None)

    def _about_the_service(self, out: Out, content: Content, state: ConversationState, text: str,
                           listening: Listening) -> str | None:
        """Questions about the assistant itself, answered without opening anything. Returns the topic."""
        if listening.hears("bot_question", text):  # "are you a real person?": answered, no case opened
            out.say(self.kit.t(out, "I am an automatic assistant, not a person. People from the SafeSafar team read "
                                 "the cases that reach them and answer in this chat. Would you like a person to "
                                 "answer you?"), [self.kit.action_button(out, "human")], [self.kit.action_button(out, "menu")])
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
                    [self.kit.topic_button(out, content, topic)] if topic else [])
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
    def _expectation(self, out: Out) -> str:
        """What happens next, honestly: nobody has the case yet, or someone has it."""
        case = out.case
        if case.status in ("claimed",):
            return self.kit.t(out, "A person from the SafeSafar team has your case and will write to you here.")
        if case.status == "waiting":
            return self.kit.t(out, "The SafeSafar team has written to you here: please answer them in this chat.")
        minutes = case.target_minutes or 5
        return self.kit.t(out, "Nobody from the team has taken your case yet. Urgent cases are answered here within "
                            "about {minutes} minutes; you will get a message in this chat.",
                       minutes=self.kit.i18n.number(minutes, out.language))

    def _crisis(self, out: Out, content: Content, state: ConversationState, text: str, result: Understanding,
                listening: Listening) -> Turn:
        """Every message joins the urgent case: one short acknowledgement, then at most two lines that
        matter now (the answer to "should I run?", the phone, the embassy, what to expect, staying safe).
        Never the offer check, never out of scope, never the long emergency page again."""
        state.misses = 0
        details = (bool(result.entities) or any(ch.isdigit() for ch in text)) and not listening.is_question(text)
        if details:
            lines = [self.kit.t(out, "Added to your case #{case}, with the details you gave (place, people, numbers). "
                                  "The SafeSafar team has been alerted.", case=out.case.id)]
        else:
            lines = [self.kit.t(out, "Added to your case #{case}. The SafeSafar team has been alerted.",
                             case=out.case.id)]
        extra: list[Button] = []
        entities: list[dict] = []
        asked = self.kit.form_question(state, listening, text)
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
            lines.append(self.kit.t(out, "Your request is noted: a woman from the SafeSafar team will answer you if one "
                                      "is available."))
            entities.append({"entity": "request", "value": "female counsellor"})
        elif (result.intent and not result.fallback and result.confidence >= CONFIDENT
              and result.intent not in SOCIAL | FORMS | {"emergency", "ask_human", "hotline_info"}
              and result.intent in content.by_intent and result.priority != "urgent"):
            out.say(lines[0])  # a question on a topic: the acknowledgement, then the short answer
            topic = content.by_intent[result.intent].id
            self.kit.answer_or_recall(out, content, state, topic)
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
            extra.append(self.kit.topic_button(out, content, "abroad_in_trouble"))
        out.say("\n\n".join(line for line in lines if line), [self.kit.action_button(out, "hotline")] + extra)
        return Turn(out.replies, out.language, result, topic="emergency", case_told=True, entities=entities)

    def _female_counsellor(self, out: Out, state: ConversationState, result: Understanding) -> Turn:
        """An explicit request for a person: recorded on the case (staff see it), honestly answered."""
        state.misses = 0
        out.say(self.kit.t(out, "Your request is noted: a woman from the SafeSafar team will answer you if one is "
                             "available. Write here what you would like to tell her."))
        escalation = None if out.case else "normal"
        return Turn(out.replies, out.language, result, escalation, "ask_human", reason="human",
                    case_told=out.case is not None, entities=[{"entity": "request", "value": "female counsellor"}])

    def _fallback(self, out: Out, content: Content, state: ConversationState, result: Understanding) -> Turn:
        state.misses += 1
        if state.misses >= 2:
            state.misses = 0
            out.say(self.kit.t(out, "Sorry, I still did not understand. Someone from the SafeSafar team can help you, "
                                 "or choose a topic from the menu."),
                    [Button(self.kit.t(out, "Talk to the SafeSafar team"), "act:human:fallback")], [self.kit.action_button(out, "menu")])
            return Turn(out.replies, out.language, result, learn={"source": "fallback"})
        options = []
        for intent, _conf in result.ranking:
            topic = content.by_intent.get(intent)
            if topic and intent not in SOCIAL and topic.id not in options:
                options.append(topic.id)
            if len(options) == 2:
                break
        buttons = [self.kit.topic_button(out, content, t) for t in options]
        out.say(self.kit.t(out, "I am not sure I understood. Did you mean one of these?"), buttons,
                [self.kit.action_button(out, "menu")])
        return Turn(out.replies, out.language, result, learn={"source": "ask_back" if buttons else "fallback"})
