"""The report form as a conversation: report_form.py's steps asked in the user's language, typed answers
and buttons, questions typed inside the form answered, then the review and Send.

    /report, "Report an agent", the report_suspect intent -> what -> who -> where -> money -> contact
    -> review -> Send (a high-priority case for the SafeSafar team) | change an answer | cancel

State: ConversationState.flow = {"name": "report", "step", "answers", "editing"} (report_form.start).
"""
from __future__ import annotations

from ..text import clean
from ..understanding import Understanding
from . import report_form
from .content import Content
from .flow import Flow
from .kit import CONFIDENT, FORMS, SOCIAL
from .replies import Button, Out, Turn
from .state import ConversationState


class ReportFlow(Flow):
    name = "report"
    prefix = "rf"
    commands = ("report",)
    actions = ("report", "report_continue")
    continue_action = "report_continue"
    danger_question = False  # its answers reach the SafeSafar team: the form is not interrupted to ask

    # -- the router's interface (flow.py) -------------------------------------------------------------
    def command(self, out: Out, content: Content, state: ConversationState, text: str) -> Turn:
        self.start(out, state)
        return out.turn()

    def action(self, out: Out, content: Content, state: ConversationState, action: str) -> Turn:
        if action == "report":
            self.start(out, state)
        else:  # report_continue
            self.ask(out, state)
        return out.turn()

    def action_label(self, out: Out, action: str) -> str:
        t = self.kit.t
        return {"report": t(out, "Report an agent"), "report_continue": t(out, "Continue the report")}[action]

    def button(self, out: Out, content: Content, state: ConversationState, value: str) -> Turn:
        sent = self._button(out, content, state, value)
        if sent is not None:
            return out.turn(escalation="high", reason="report", case={"report": sent})
        return out.turn()

    def text(self, out: Out, content: Content, state: ConversationState, text: str,
             result: Understanding) -> Turn | None:
        if self._aside(content, state, text, result):  # answered by the policy, with a button back here
            return None
        sent = self._text(out, content, state, text, result)
        if sent is not None:
            return out.turn(result, "high", "report_suspect", reason="report", case={"report": sent})
        return out.turn(result)

    def resume(self, out: Out, content: Content, state: ConversationState, lead: str = "") -> None:
        self.ask(out, state, lead)

    def pause(self, out: Out) -> None:
        out.say(self.kit.t(out, "Your report is paused."), [self.kit.action_button(out, "report_continue")])

    # -- the form ------------------------------------------------------------------------------------
    def start(self, out: Out, state: ConversationState) -> None:
        state.flow = report_form.start()
        out.say(self.kit.t(out, "Let us write your report for the SafeSafar team: five short questions. You can skip a "
                             "question or cancel at any time. Nothing is sent until you press Send. (To file a "
                             "complaint with the FIA, call the FIA anti-trafficking hotline; we can help you prepare "
                             "it.)"))
        self.ask(out, state)

    def _field_label(self, out: Out, name: str) -> str:
        return {"what": self.kit.t(out, "What happened"), "who": self.kit.t(out, "Agent or company"),
                "where": self.kit.t(out, "Where"), "money": self.kit.t(out, "Money paid"),
                "contact": self.kit.t(out, "The SafeSafar team may contact you")}[name]

    def ask(self, out: Out, state: ConversationState, lead: str = "") -> None:
        flow = state.flow
        if not flow or flow.get("name") != "report":
            out.say(self.kit.t(out, "That report is over. Start a new one?"), [self.kit.action_button(out, "report")])
            return
        cancel = [Button(self.kit.t(out, "Cancel the report"), "rf:cancel")]
        step = flow["step"]
        if step == "review":
            answers = report_form.result(flow)
            lines = [self.kit.t(out, "Please check your report before you send it:")]
            for name in report_form.FIELDS:
                value = answers.get(name)
                if name == "contact":
                    shown = self.kit.t(out, "Yes") if value else self.kit.t(out, "No")
                else:
                    shown = value if value else self.kit.t(out, "(skipped)")
                lines.append(f"• {self._field_label(out, name)}: {shown}")
            lines += ["", self.kit.t(out, "Send it to the SafeSafar team?")]
            out.say("\n".join(lines), [Button(self.kit.t(out, "Send to the SafeSafar team"), "rf:send")],
                    [Button(self.kit.t(out, "Change an answer"), "rf:change")], cancel)
            return
        if step == "choose":
            out.say(self.kit.t(out, "Which answer do you want to change?"),
                    *[[Button(self._field_label(out, name), f"rf:edit:{name}")] for name in report_form.FIELDS],
                    cancel)
            return
        header = self.kit.t(out, "Report: question {n} of {total}", n=self.kit.i18n.number(report_form.number(step), out.language),
                         total=self.kit.i18n.number(len(report_form.FIELDS), out.language))
        prompts = {
            "what": self.kit.t(out, "What happened? Describe it in a few sentences: what was promised, what was asked "
                                 "of you, what went wrong."),
            "who": self.kit.t(out, "What is the name of the agent, company or person? Skip if you do not know."),
            "where": self.kit.t(out, "Where did it happen, or where are they based? A city, an office, a country."),
            "money": self.kit.t(out, "Did you pay any money? How much, and how (cash, bank, mobile wallet)? Skip if "
                                  "you paid nothing."),
            "contact": self.kit.t(out, "May the SafeSafar team contact you about this report in this chat?"),
        }
        if step == "contact":
            rows = [[Button(self.kit.t(out, "Yes"), "rf:yes"), Button(self.kit.t(out, "No"), "rf:no")]]
        elif report_form.can_skip(step):
            rows = [[Button(self.kit.t(out, "Skip"), "rf:skip")]]
        else:
            rows = []
        out.say((lead + "\n\n" if lead else "") + f"{header}\n{prompts[step]}", *rows, cancel)

    def _cancel(self, out: Out, content: Content, state: ConversationState) -> None:
        state.flow = None
        out.say(self.kit.t(out, "Your report is cancelled. Nothing was sent."))
        self.kit.menu(out, content)

    def _button(self, out: Out, content: Content, state: ConversationState, value: str) -> dict | None:
        """A button of the report form. Returns the report when it is sent."""
        flow = state.flow
        if value == "cancel":
            if flow and flow.get("name") == "report":
                self._cancel(out, content, state)
            else:
                self.kit.menu(out, content)
            return None
        if not flow or flow.get("name") != "report":
            out.say(self.kit.t(out, "That report is over. Start a new one?"), [self.kit.action_button(out, "report")])
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
        self.ask(out, state)
        return None

    @staticmethod
    def _aside(content: Content, state: ConversationState, text: str, result: Understanding) -> bool:
        """A question on another topic, typed where the report form waits for a button (may the hotline
        call back, the review): it is answered, and the report waits with a button back to it. Where the
        form asks for text, the text is the answer."""
        step = state.flow.get("step")
        if (step in report_form.FIELDS and step != "contact") or report_form.is_cancel(text):
            return False
        intent = result.intent
        return (intent is not None and not result.fallback and result.confidence >= CONFIDENT
                and intent not in SOCIAL and intent not in FORMS and intent in content.by_intent)

    def _text(self, out: Out, content: Content, state: ConversationState, text: str,
                     result: Understanding) -> dict | None:
        """Typed text while the report form is open (urgent messages were handled before)."""
        flow = state.flow
        step = flow["step"]
        if report_form.is_cancel(text):
            self._cancel(out, content, state)
            return None
        listening = self.kit.listening(content)
        asked = self.kit.form_question(state, listening, text)
        if asked:  # "will the agent know it was me?": answered, then the form's question again
            self.ask(out, state, listening.answer(content, asked, out.language))
            return None
        if listening.is_question(text) and step != "what":
            topic = content.by_intent.get(result.intent or "")
            if topic is not None and not result.fallback and result.intent not in SOCIAL | FORMS:
                self.kit.answer_or_recall(out, content, state, topic.id)
                self.ask(out, state)
                return None
        if listening.hears("feelings", text) and len(clean(text).text.split()) <= 8 and step != "what":
            self.ask(out, state, self.kit.t(out, "I understand; this is not easy. Take your time."))
            return None
        lead = ""
        if step in report_form.FIELDS and step != "contact":
            if not clean(text).text.strip():
                lead = self.kit.t(out, "Please write a few words about what happened.")
            else:
                report_form.answer(flow, clean(text).text)
        elif step == "contact" and (listening.typed_answer(text) or result.intent in ("affirm", "deny")):
            typed = listening.typed_answer(text)
            yes = typed.value == "yes" if typed and typed.value != "unsure" else result.intent == "affirm"
            if typed and typed.value == "unsure":
                lead = self.kit.t(out, "May the SafeSafar team write to you here about this report? Yes or no.")
            else:
                report_form.answer(flow, yes)
        else:
            lead = self.kit.t(out, "May the SafeSafar team write to you here about this report? Yes or no.")
        self.ask(out, state, lead)
        return None
