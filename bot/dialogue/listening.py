"""What the conversation listens for besides the intent (content/conversation.yml): a question typed
inside a form, a typed yes/no with a detail after it, feelings, "are you a bot?", a request for a woman
counsellor, and, while an urgent case is open, "should I run?", "how long?", "my phone is checked".

Pure: phrase sets compiled once per content snapshot (content.derived), no state of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..phrases import PhraseSet, tokenize
from ..text import clean
from .content import Content

KEY = "listening"


@dataclass(frozen=True)
class TypedAnswer:
    value: str  # yes | no | unsure
    note: str  # what the message said beyond the answer ("9 lakh cash abhi mang raha hai"), or ""


class Listening:
    def __init__(self, spec: dict, unsure: PhraseSet | None = None):
        self.spec = spec or {}
        self.sets: dict[str, PhraseSet] = {}
        self.answers: dict[str, dict] = {}
        self.review: dict[str, bool] = {}
        for key in ("bot_question", "cost_question", "female_counsellor", "feelings", "phone", "abroad"):
            self._add(key, self.spec.get(key) or {})
        for key, entry in (self.spec.get("crisis") or {}).items():
            self._add(f"crisis.{key}", entry or {})
        for key, entry in (self.spec.get("questions") or {}).items():
            self._add(f"question.{key}", entry or {})
        self.form_questions = [k for k in self.sets if k.startswith("question.")]
        self.avoid = PhraseSet.from_mapping((self.spec.get("phone") or {}).get("avoid"))
        self.typed = {value: {lang: sorted((tuple(tokenize(clean(w).text)) for w in words), key=len, reverse=True)
                              for lang, words in (by_lang or {}).items()}
                      for value, by_lang in (self.spec.get("typed_answers") or {}).items()}
        self.question_words = {w for words in (self.spec.get("question_words") or {}).values() for w in words}
        self.unsure = unsure or PhraseSet()

    def _add(self, key: str, entry: dict) -> None:
        if entry.get("phrases"):
            self.sets[key] = PhraseSet.from_mapping(entry["phrases"])
        if entry.get("answer"):
            self.answers[key] = entry["answer"]
        self.review[key] = bool(entry.get("needs_review", False))

    @classmethod
    def of(cls, content: Content, unsure: PhraseSet | None = None) -> "Listening":
        found = content.derived.get(KEY)
        if found is None:
            found = content.derived[KEY] = cls(content.conversation, unsure)
        return found

    def hears(self, key: str, text: str) -> bool:
        phrases = self.sets.get(key)
        return bool(phrases and phrases.find(text))

    def answer(self, content: Content, key: str, language: str) -> str:
        texts = self.answers.get(key)
        return content.render(content.pick(texts, language), language) if texts else ""

    def is_question(self, text: str) -> bool:
        """A question: a question mark, or a first word that asks (what, will, kya, کیا)."""
        cleaned = clean(text).text.strip()
        if "?" in cleaned or "؟" in cleaned:
            return True
        tokens = tokenize(cleaned)
        return bool(tokens) and tokens[0] in self.question_words

    def form_question(self, text: str, said: list | tuple = ()) -> str | None:
        """The content key of a question about the form ("will the agent know it was me?"), if any: of
        those it matches, the first not `said` in this conversation yet ("will my name go to the police?"
        after "will the agent know?" gets what the FIA is told)."""
        if not self.is_question(text):
            return None
        heard = [key for key in self.form_questions if self.hears(key, text)]
        return next((key for key in heard if key not in said), heard[0] if heard else None)

    def typed_answer(self, text: str) -> TypedAnswer | None:
        """A yes, no or not sure at the start of the message, and the rest of it as a note:
        "haan 9 lakh cash abhi mang raha hai" -> yes, "9 lakh cash abhi mang raha hai"."""
        cleaned = clean(text).text.strip()
        tokens = tokenize(cleaned)
        if not tokens:
            return None
        if self.unsure.find(" ".join(tokens[:4])):
            return TypedAnswer("unsure", "")
        best: tuple[int, str] | None = None
        for value, by_lang in self.typed.items():
            for words in by_lang.values():
                for phrase in words:
                    if phrase and tuple(tokens[:len(phrase)]) == phrase and (best is None or len(phrase) > best[0]):
                        best = (len(phrase), value)
        if best is None:
            return None
        length, value = best
        if value == "no" and length == 1 and len(tokens) > 1 and tokens[1] in ("doubt", "problem", "worries"):
            return None
        rest = tokens[length:]
        return TypedAnswer(value, " ".join(rest) if len(rest) >= 3 else "")

    def phone_safe(self, text: str) -> str:
        """The text without its lines that tell the user to keep screenshots or messages (their phone is
        checked: what is kept can endanger them)."""
        return "\n".join(line for line in text.split("\n") if not self.avoid.find(line))
