"""The offer check as a conversation: the questions of offer_check.py asked one by one with buttons, typed
answers read for their meaning, the result with its reasons and next steps.

    /check, "Check my offer", an offer described or asked about -> study or job? -> question N of M
    -> Yes | No | Not sure (typed or pressed; "Change" takes an answer back) -> the result
    -> a high result may be passed to the SafeSafar team (act:pass_check)

State: ConversationState.flow = {"name": "offer_check", "kind", "answers", "prefilled", "asking", ...};
the last result is kept in state.data["last_offer_check"] (it joins a case the user opens).
"""
from __future__ import annotations

from ..text import clean
from ..understanding import Understanding
from .agent_check import case_of
from .content import Content
from .flow import Flow
from .kit import CONFIDENT, FORMS, SOCIAL
from .offer_check import ANSWERS, KINDS, check_of, variant
from .replies import Button, Out, Turn
from .state import ConversationState

NAME = "offer_check"


def kind_word(text: str) -> str | None:
    """The kind of offer the text names ("naukri": job, "admission": study), if any."""
    words = set(clean(text).text.lower().split())
    if words & {"job", "naukri", "kaam", "work", "نوکری", "ملازمت", "کام"}:
        return "job"
    if words & {"study", "admission", "university", "parhai", "parhai", "داخلہ", "تعلیم", "پڑھائی"}:
        return "study"
    return None


class OfferCheckFlow(Flow):
    name = NAME
    prefix = "oc"
    commands = ("check",)
    actions = ("offer_check", "offer_continue", "pass_check")
    continue_action = "offer_continue"

    # -- the router's interface (flow.py) -------------------------------------------------------------
    def command(self, out: Out, content: Content, state: ConversationState, text: str) -> Turn:
        self.start(out, content, state, None, "")
        return out.turn()

    def action(self, out: Out, content: Content, state: ConversationState, action: str) -> Turn:
        if action == "offer_check":
            self.start(out, content, state, None, "")
        elif action == "offer_continue":
            self.ask_next(out, content, state)
        elif action == "pass_check" and state.data.get("last_offer_check"):
            # a high-risk offer check the user chose to pass on
            check = state.data["last_offer_check"]
            escalation = "high" if check.get("level") == "high" else "normal"
            return out.turn(escalation=escalation, reason="offer_check", case={"offer_check": check})
        else:
            self.kit.menu(out, content)
        return out.turn()

    def action_label(self, out: Out, action: str) -> str:
        t = self.kit.t
        return {"offer_check": t(out, "Check my offer"), "offer_continue": t(out, "Continue the check"),
                "pass_check": t(out, "Pass it to the SafeSafar team")}[action]

    def button(self, out: Out, content: Content, state: ConversationState, value: str) -> Turn:
        self._button(out, content, state, value)
        return out.turn()

    def text(self, out: Out, content: Content, state: ConversationState, text: str,
             result: Understanding) -> Turn | None:
        agent = self.kit.flows.get("agent_check")
        checked = agent.offer_licence(out, content, state, text) if agent is not None else None
        if checked is not None:  # a licence number typed at its question: looked up on the register
            self.ask_next(out, content, state)
            return out.turn(result, case=case_of(checked))
        if self._text(out, content, state, text, result):
            return out.turn(result)
        return None

    def resume(self, out: Out, content: Content, state: ConversationState, lead: str = "") -> None:
        self.ask_next(out, content, state, lead)

    def pause(self, out: Out) -> None:
        out.say(self.kit.t(out, "Your offer check is paused."), [self.kit.action_button(out, "offer_continue")])

    # -- the check -----------------------------------------------------------------------------------
    def start(self, out: Out, content: Content, state: ConversationState, kind: str | None, text: str,
                     result: Understanding | None = None) -> None:
        check = check_of(content)
        flow = {"name": NAME, **check.start(kind)}
        state.flow = flow
        intro_topic = {"study": "check_study_offer", "job": "check_job_offer"}.get(kind or "")
        if intro_topic and intro_topic in content.topics:
            out.say(content.answer(intro_topic, out.language))
        told = self._told(out, result)
        if told:
            flow["told"] = told
        found = check.prefill(flow, text) if text else []
        if told or found:  # shown above the first question, in the same message, and changeable
            lines = [self.kit.t(out, "From what you told me:")]
            if told:
                lines.append("• " + " · ".join(told))
            lines += ["• " + content.render(content.pick(check.by_id[q].text(check.by_id[q].reason, kind or "job"),
                                                         out.language), out.language) for q in found]
            self.ask_next(out, content, state, "\n".join(lines),
                           Button(self.kit.t(out, "That is wrong: start again"), "oc:restart"))
            return
        self.ask_next(out, content, state)

    def _told(self, out: Out, result: Understanding | None) -> list[str]:
        """What the first message said that the check carries: countries and amounts."""
        told: list[str] = []
        for entity in (result.entities if result is not None else None) or ():
            if entity.get("entity") == "country" and entity.get("value"):
                value = str(entity["value"])
            elif entity.get("entity") == "amount" and entity.get("number") is not None:
                value = f"{self.kit.i18n.number(int(entity['number']), out.language)} {entity.get('currency') or ''}".strip()
            else:
                continue
            if value not in told:
                told.append(value)
        return told[:4]

    def ask_next(self, out: Out, content: Content, state: ConversationState, lead: str = "",
                  change: Button | None = None) -> None:
        """The check's next question, in one message with `lead` above it (what was noted) and a
        `change` button for the answer just given."""
        flow = state.flow
        if not flow or flow.get("name") != NAME:
            self.kit.menu(out, content)
            return
        check = check_of(content)
        if not flow.get("kind"):
            out.say((lead + "\n\n" if lead else "") + self.kit.t(out, "Is it a study offer (admission, scholarship) or a job offer?"),
                    [Button(self.kit.t(out, "Study"), "oc:kind:study"), Button(self.kit.t(out, "Job"), "oc:kind:job")],
                    [Button(self.kit.t(out, "Stop the check"), "oc:stop")])
            return
        question = check.next_question(flow)
        if question is None:
            if lead:
                out.say(lead, [change] if change else [])
            self._result(out, content, state)
            return
        done, total = check.progress(flow)
        header = self.kit.t(out, "Question {n} of {total}", n=self.kit.i18n.number(done + 1, out.language),
                         total=self.kit.i18n.number(total, out.language))
        text = content.render(content.pick(question.text(question.ask, flow["kind"]), out.language), out.language)
        flow["asking"] = question.id
        kind = flow["kind"]
        yes = question.label("yes", kind)
        no = question.label("no", kind)
        out.say((lead + "\n\n" if lead else "") + f"{header}\n{text}",
                [Button(content.pick(yes, out.language) if yes else self.kit.t(out, "Yes"), f"oc:yes:{question.id}"),
                 Button(content.pick(no, out.language) if no else self.kit.t(out, "No"), f"oc:no:{question.id}")],
                [Button(self.kit.t(out, "Not sure"), f"oc:unsure:{question.id}"),
                 Button(self.kit.t(out, "Stop the check"), "oc:stop")],
                [change] if change else [])

    def _button(self, out: Out, content: Content, state: ConversationState, value: str) -> None:
        flow = state.flow
        parts = value.split(":")
        if parts[0] == "stop":
            state.flow = None
            out.say(self.kit.t(out, "The check is stopped. You can start it again any time with /check."))
            self.kit.menu(out, content)
            return
        if not flow or flow.get("name") != NAME:
            out.say(self.kit.t(out, "That check is over. Start a new one?"), [self.kit.action_button(out, "offer_check")])
            return
        if parts[0] == "restart":
            state.flow = {"name": NAME, **check_of(content).start(None)}
        elif parts[0] == "undo" and len(parts) > 1:  # "Change": that question is asked again
            flow["answers"].pop(parts[1], None)
            flow.get("notes", {}).pop(parts[1], None)
        elif parts[0] == "kind" and len(parts) > 1 and parts[1] in KINDS:
            flow["kind"] = parts[1]
        elif (parts[0] in ANSWERS and len(parts) > 1 and parts[1] == flow.get("asking")
              and parts[1] in check_of(content).by_id):  # a question an edit removed is not answered
            check_of(content).answer(flow, parts[1], parts[0])
        # a stale button (an earlier question) is ignored: the current question is asked again
        self.ask_next(out, content, state)

    def _text(self, out: Out, content: Content, state: ConversationState, text: str,
                    result: Understanding) -> bool:
        """Typed text while the check is open. True if the check handled it.

        A typed answer is read for its meaning and repeated back ("Noted: No contract", with Change);
        a detail after it ("haan 9 lakh cash abhi mang raha hai") is kept as a note on the check; a
        question is answered and the check's question asked again; a feeling is acknowledged in a line."""
        flow = state.flow
        check = check_of(content)
        listening = self.kit.listening(content)
        if not flow.get("kind"):
            if result.intent in ("check_study_offer", "check_job_offer") or kind_word(text):
                flow["kind"] = kind_word(text) or ("study" if result.intent == "check_study_offer" else "job")
                check.prefill(flow, text)
                self.ask_next(out, content, state)
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
                         {"yes": self.kit.t(out, "Yes"), "no": self.kit.t(out, "No"), "unsure": self.kit.t(out, "Not sure")}[answer])
                said = self.kit.t(out, "Noted: {answer}", answer=shown)
                if typed and typed.note:
                    said += "\n" + self.kit.t(out, "I also kept what you added as a note on this check.")
                said += "".join("\n• " + content.render(content.pick(check.by_id[q].text(check.by_id[q].reason,
                                                                                          flow["kind"]), out.language),
                                                          out.language) for q in also)
                self.ask_next(out, content, state, said, Button(self.kit.t(out, "Change"), f"oc:undo:{asking}"))
                return True
        if listening.hears("feelings", text) and not listening.is_question(text):
            self.ask_next(out, content, state, self.kit.t(
                out, "I understand that this is worrying. Checking before you pay is the right step; let us go on."))
            return True
        if result.intent in ("thank", "greet") and not result.fallback and flow.get("kind"):  # not a form error
            self.ask_next(out, content, state, self.kit.t(
                out, "You are welcome. A few more questions and you will have the result, or press Stop the check."))
            return True
        if (result.intent and not result.fallback and result.confidence >= CONFIDENT and result.intent not in SOCIAL
                and result.intent not in FORMS):
            topic = content.by_intent.get(result.intent)
            if topic is not None and listening.is_question(text):  # a question inside the check: answered, then
                self.kit.answer_or_recall(out, content, state, topic.id)  # the check's question again
                self.ask_next(out, content, state)
                return True
            return False  # another topic: answered normally, with a button back to the check
        if flow.get("kind"):
            self.ask_next(out, content, state, self.kit.t(out, "I did not catch a yes or a no there. You can type "
                                                             "yes, no or not sure, or press a button."))
        else:
            self.ask_next(out, content, state)
        return True


    def _typed_answer(self, content: Content, text: str, result: Understanding) -> str | None:
        if check_of(content).unsure.find(text):
            return "unsure"
        if result.intent == "affirm":
            return "yes"
        if result.intent == "deny":
            return "no"
        return None

    def _result(self, out: Out, content: Content, state: ConversationState) -> None:
        flow = state.flow
        check = check_of(content)
        scored = check.score(flow)
        kind = flow["kind"]
        spec = content.offer_check
        lines = [content.pick(spec["levels"][scored.level], out.language)]
        if scored.reasons:  # the answers that raised it, and the red flags that count together
            lines.append("")
            lines.append(self.kit.t(out, "Why:"))
            lines += ["• " + content.render(content.pick(q.text(q.reason, kind), out.language), out.language)
                      for q in scored.reasons]
            lines += ["• " + content.render(content.pick(variant(c.reason, kind), out.language), out.language)
                      for c in scored.combinations]
        if scored.unsure:
            lines.append("")
            lines.append(self.kit.t(out, "You were not sure about these; find out before you go on:"))
            lines += ["• " + content.render(content.pick(q.text(q.reason, kind), out.language), out.language)
                      for q in scored.unsure]
        lines.append("")
        lines.append(self.kit.t(out, "What to do next:"))
        lines.append(content.render(content.pick(spec["next_steps"][kind], out.language), out.language).strip())
        lines.append(content.render(content.pick(spec["next_steps"]["report"], out.language), out.language).strip())
        rows = []
        if scored.level == "high":
            rows.append([self.kit.action_button(out, "pass_check")])
        how_to_check = "verify_agent" if kind == "job" else "study_abroad"
        row = [self.kit.topic_button(out, content, how_to_check)] if how_to_check in content.topics else []
        rows.append(row + [self.kit.action_button(out, "menu")])
        out.say("\n".join(lines).strip(), *rows)
        state.data["last_offer_check"] = {"kind": kind, "level": scored.level, "total": scored.total,
                                          "answers": dict(flow["answers"]), "breakdown": scored.breakdown}
        if flow.get("notes"):  # details typed with the answers, for the team
            state.data["last_offer_check"]["notes"] = dict(flow["notes"])
        if flow.get("told"):
            state.data["last_offer_check"]["told"] = list(flow["told"])
        state.flow = None

