"""The transcript in words: a button press ("oc:kind:job", "rf:send", "oc:yes:upfront_money") shown as the
button's label and the question's text in the case's language, with an English gloss for staff; the offer
check's answers and risk result as a short readable summary. The labels come from where the bot takes them:
the bot's catalogs (bot/i18n) and content/offer_check.yml (reloaded when it changes)."""
from __future__ import annotations

from pathlib import Path

from ..dialogue.content import ContentStore
from ..dialogue.offer_check import OfferCheck
from ..i18n import default_i18n

# payloads with a fixed label (the bot's catalog msgid, as the dialogue's flows write the buttons)
FIXED = {"oc:kind:study": "Study", "oc:kind:job": "Job", "oc:stop": "Stop the check",
         "rf:cancel": "Cancel the report", "rf:send": "Send to the SafeSafar team", "rf:change": "Change an answer",
         "rf:yes": "Yes", "rf:no": "No", "rf:skip": "Skip"}
ANSWERS = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
REPORT_FIELDS = {"what": "What happened", "who": "Agent or company", "where": "Where", "money": "Money paid",
                 "contact": "The hotline may contact you"}


class Words:
    def __init__(self, content_dir: Path):
        self.store = ContentStore(content_dir, interval=5.0)
        self.i18n = default_i18n()
        self._checks: dict[int, OfferCheck | None] = {}

    def _check(self):
        content = self.store.get()
        key = id(content)
        if key not in self._checks:
            self._checks = {key: OfferCheck(content.offer_check) if content.offer_check else None}
        return content, self._checks[key]

    def _tr(self, language: str, msgid: str) -> tuple[str, str]:
        return self.i18n.tr(language or "en", msgid), msgid

    def question(self, qid: str, language: str, kind: str | None) -> tuple[str, str] | None:
        content, check = self._check()
        question = check.by_id.get(qid) if check else None
        if question is None:
            return None
        texts = question.text(question.ask, kind or "job")
        return (content.render(content.pick(texts, language or "en"), language or "en"),
                content.render(content.pick(texts, "en"), "en"))

    def answer(self, qid: str, value: str, language: str, kind: str | None) -> tuple[str, str]:
        content, check = self._check()
        question = check.by_id.get(qid) if check else None
        labels = question.label(value, kind or "job") if question and value in ("yes", "no") else {}
        if labels:
            return content.pick(labels, language or "en"), content.pick(labels, "en")
        return self._tr(language, ANSWERS.get(value, value))

    def button(self, payload: str, language: str, kind: str | None = None) -> dict | None:
        """{"label", "gloss", "question", "question_gloss"} for a button payload, or None when unknown."""
        payload = (payload or "").strip()
        if payload in FIXED:
            label, gloss = self._tr(language, FIXED[payload])
            return {"label": label, "gloss": gloss, "question": None, "question_gloss": None}
        parts = payload.split(":")
        if len(parts) == 3 and parts[0] == "oc" and parts[1] in ANSWERS:
            asked = self.question(parts[2], language, kind)
            label, gloss = self.answer(parts[2], parts[1], language, kind)
            return {"label": label, "gloss": gloss, "question": asked[0] if asked else None,
                    "question_gloss": asked[1] if asked else None}
        if len(parts) == 3 and parts[0] == "fb" and parts[1] in ("up", "down"):  # 👍 / 👎 under an answer
            label = "👍" if parts[1] == "up" else "👎"
            return {"label": label, "gloss": "helpful" if parts[1] == "up" else "not helpful", "question": None,
                    "question_gloss": None}
        if len(parts) == 3 and parts[:2] == ["rf", "edit"] and parts[2] in REPORT_FIELDS:
            label, gloss = self._tr(language, REPORT_FIELDS[parts[2]])
            change, change_gloss = self._tr(language, "Change an answer")
            return {"label": f"{change}: {label}", "gloss": f"{change_gloss}: {gloss}", "question": None,
                    "question_gloss": None}
        return None

    def offer_answers(self, offer_check: dict, language: str) -> list[dict]:
        """The offer check's answers as questions and answers in the case's language (with English glosses),
        red flags marked."""
        _content, check = self._check()
        kind = offer_check.get("kind")
        answers = offer_check.get("answers") if isinstance(offer_check.get("answers"), dict) else {}
        out = []
        for qid, value in answers.items():
            asked = self.question(str(qid), language, kind)
            label, gloss = self.answer(str(qid), str(value), language, kind)
            question = check.by_id.get(str(qid)) if check else None
            out.append({"id": qid, "question": asked[0] if asked else str(qid),
                        "question_gloss": asked[1] if asked else None, "answer": label, "answer_gloss": gloss,
                        "flag": bool(question and question.flagged(value)),
                        "critical": bool(question and question.critical and question.flagged(value)),
                        "unsure": value == "unsure"})
        return out
