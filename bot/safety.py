"""The danger safety net: a message that says someone is in danger now must escalate as urgent even
when the classifier is unsure or wrong, and a question about danger in general must not.

Editors keep the phrases in content/safety/danger_lexicon.yml, in all three languages (the phrase
syntax is explained at the top of that file). The lists:
  strong      a present danger (someone restrained, beaten, threatened, sold or bought, kidnapped, held for
              ransom, in a sinking boat or a sealed container): urgent at once;
  ambiguous   a danger word that may or may not be about now ("kidnap", "ransom", "missing"): urgent
              with the classifier's support, else the user is asked "Is someone in danger right now?";
  supporting  context words ("help", "border", "smugglers"): they only back the classifier (its top
              intent is `emergency`, or p >= `context`);
  general     cues of a general or hypothetical question ("is it dangerous", "what if", "why do people
              die"): they take away the urgency of the phrases and of the classifier, unless a `present`
              cue is there too;
  about       cues of a question about a situation ("is this trafficking", "is it legal", "what does it
              mean"): like `general`, except that a strong phrase stays urgent when a `personal` cue is
              there too (the user or someone they speak for: "my brother", "mujhe", "ہمیں");
  personal    see `about` (and step 1);
  over        the danger is over (released, back home, deported): like `general`, even with a `present` cue;
  idiom       a joke, a story being written, a figure of speech ("my phone died", "the exam killed me"), a
              question about people in general ("are people still dying at the border?"): like `over`,
              unless a strong phrase and a present cue are both there;
  serious     the writer says it is NOT a joke, a game or a drama ("not joking", "mazaq nahi", "یہ مذاق نہیں"):
              it cancels the `idiom` cues (a danger told as "this is not a joke" is not a joke);
  past        a past date ("in 2018", @year): takes away the urgency of everything but a strong phrase,
              unless a present cue is there;
  present     cues that the danger is happening now ("right now", "abhi", "since three days", "teen hafte
              ho gaye", Urdu "band hun").
The decision, in this order (p: the classifier's `emergency` probability; top: it is the first guess):
  1. a general question (over; idiom; past; or, with no `present` cue, a `general` cue or an `about` cue
     without a strong phrase and a `personal` cue): never urgent; asked (not when over/idiom/past) when a
     strong phrase is about the user or someone they speak for (a hypothetical may be a real danger told
     carefully), or when top with p >= `alone` and a strong or ambiguous phrase;
  2. a strong phrase: urgent;
  3. top with p >= `alone`: urgent;
  4. an ambiguous phrase with p >= `support`: urgent;
  5. a supporting phrase, and top or p >= `context`: urgent;
  6. an ambiguous phrase alone: ask;
  7. top with p >= `ask` (no phrase): ask;
  8. otherwise: not urgent.
Matching is on whole words: a phrase never matches inside another word ("mar" is not in "mera").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from .text import clean

GAP, LONG_GAP = 3, 8
YEAR = "(?:19|20|۱۹|۲۰|١٩|٢٠)\\d\\d"  # the built-in set @year (Latin or Urdu digits)
MIN_STEM = {"latin": 4, "other": 3}  # `word*`: a stem shorter than this would match too many words


class HasRanking(Protocol):
    intent: str | None

    def probability(self, intent: str) -> float: ...


@dataclass(frozen=True)
class SafetyVerdict:
    urgent: bool
    source: str = ""  # classifier | lexicon | lexicon+classifier
    matched: tuple[str, ...] = ()
    general_question: bool = False
    ask: bool = False  # an ambiguous signal: show the numbers and ask "is someone in danger right now?"
    probability: float = 0.0  # the classifier's emergency probability
    kind: str = ""  # which list the matched phrases come from: strong | ambiguous | supporting
    urgency: float | None = None  # the urgency model's probability of a danger now (None: no urgency model)

    def describe(self) -> str:
        """What fired, for the case record and the console's case page: the lexicon phrases as editors
        wrote them (shortened) and the classifier's probability."""
        parts = []
        if self.matched:
            parts.append("; ".join(_short(m) for m in self.matched[:3]))
        if self.urgency is not None:
            parts.append(f"p(danger now) {self.urgency:.2f}")
        parts.append(f"p(emergency) {self.probability:.2f}")
        return " · ".join(parts)[:200]

    def brief(self) -> str:
        """The same without any phrase, for the staff group's alert and the queue (phrases can repeat
        the user's words): which kind of phrase, how many, and the probability."""
        parts = [f"{self.kind} danger phrase ×{len(self.matched)}"] if self.matched and self.kind else []
        if self.source in ("classifier", "urgency model") or not parts:
            parts.append(self.source or "classifier")
        urgency = f" · p(danger now) {self.urgency:.2f}" if self.urgency is not None else ""
        return ", ".join(parts) + urgency + f" · p(emergency) {self.probability:.2f}"


def _short(phrase: str, limit: int = 48) -> str:
    """A phrase with each choice cut to its first word: beat/beats/beaten @obj -> beat/… @obj."""
    words = [w.split("/")[0] + "/…" if "/" in w else w for w in phrase.split()]
    short = " ".join(words)
    return short if len(short) <= limit else short[:limit - 1] + "…"


# -- spelling ---------------------------------------------------------------------------------------
_ROMAN_PAIRS = (("aa", "a"), ("ee", "i"), ("oo", "u"), ("ai", "e"), ("ay", "e"), ("ae", "e"), ("ey", "e"),
                ("ei", "e"))
_ROMAN_VOWELS = "aeiou"


@lru_cache(maxsize=65536)
def roman_key(word: str) -> str:
    """One spelling of a Roman Urdu word: maar -> mar, rahay/rahy -> rahe, hai/hay -> he, dhamkki -> dhamki,
    nahin -> nahin. Vowels keep their quality: mera stays mera, never mar."""
    word = word.lower().replace("'", "")
    word = re.sub(r"([^\d])\1+", r"\1", word)  # doubled letters (not digits: 2011 stays 2011)
    for a, b in _ROMAN_PAIRS:
        word = word.replace(a, b)
    if len(word) > 2 and word.endswith("y") and word[-2] not in _ROMAN_VOWELS:
        word = word[:-1] + "e"  # dety, rahy
    if len(word) > 3 and word.endswith("h") and word[-2] in _ROMAN_VOWELS:
        word = word[:-1]  # khatrah, tankhwah
    return re.sub(r"([^\d])\1+", r"\1", word)


def _roman_pattern(word: str) -> str:
    """A phrase word's pattern over roman_key'd text: a vowel between two consonants may be left out
    (kar = kr, rahe = rhe, band = bnd, nahi = nhi), nothing else changes."""
    key = roman_key(word)
    out = []
    for i, char in enumerate(key):
        inner = 0 < i < len(key) - 1 and key[i - 1] not in _ROMAN_VOWELS and key[i + 1] not in _ROMAN_VOWELS
        out.append(f"{re.escape(char)}?" if char in _ROMAN_VOWELS and inner else re.escape(char))
    return "".join(out)


def _is_latin(word: str) -> bool:
    return word.isascii()


# -- phrases --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DangerPhrase:
    text: str  # as the editor wrote it
    language: str
    roman: bool  # matched against the Roman Urdu spelling of the message
    pattern: re.Pattern
    anchors: tuple[str, ...] = ()  # one of these strings is in every text the pattern matches

    def search(self, plain: str, roman: str) -> bool:
        return self.pattern.search(roman if self.roman else plain) is not None


class PhraseError(ValueError):
    pass


def compile_phrase(text: str, language: str, sets: dict[str, list[str]] | None = None) -> DangerPhrase:
    """Phrase syntax (see the lexicon's header): words; a/b/c; word*; =word; @set; ~ (0-3 words);
    ~~ (0-8 words). In Urdu script a space inside a phrase may also be missing in the message
    (بے ہوش = بےہوش; a zero-width non-joiner is removed when the text is cleaned)."""
    roman = language == "ur-Latn"
    sets = sets or {}
    parts: list[str] = []
    anchors: set[str] | None = None
    joiner_pending: str | None = None
    for raw in clean(text).text.lower().replace("\u061f", "?").split():
        if raw in ("~", "~~"):
            n = GAP if raw == "~" else LONG_GAP
            joiner_pending = f" (?:\\S+ ){{0,{n}}}"
            continue
        alternatives = []
        literals: set[str] = set()
        unanchored = False  # a choice with no literal text (@year): this step cannot anchor the phrase
        for word in raw.split("/"):
            word = word.replace("'", "")
            if not word:
                continue
            pieces = [w for w in word.split("_") if w] if "_" in word.strip("_") else [word]
            patterns = []
            for number, piece in enumerate(pieces):  # a choice of several words: bech_diya, @kin_ko
                if piece == "@year":  # built in: a year written in digits, 1900-2099
                    patterns.append(YEAR)
                    unanchored = unanchored or number == 0
                elif piece.startswith("@"):
                    members = sets.get(piece[1:])
                    if members is None:
                        raise PhraseError(f"{text!r}: no set named {piece[1:]!r}")
                    patterns.append("(?:" + "|".join(_member_pattern(m, roman, language) for m in members) + ")")
                    if number == 0:
                        for member in members:
                            literals |= _literals(clean(str(member)).text.lower().split()[0], roman)
                else:
                    patterns.append(_word_pattern(piece, roman, text, language))
                    if number == 0:
                        literals |= _literals(piece, roman)
            alternatives.append(patterns[0] if len(patterns) == 1
                                else "(?:" + (" ?" if language == "ur" else " ").join(patterns) + ")")
        if not alternatives:
            continue
        group = "(?:" + "|".join(alternatives) + ")"
        if parts:
            if joiner_pending:
                parts.append(joiner_pending)
            elif not roman and language == "ur":
                parts.append(" ?")  # Urdu words written together or apart
            else:
                parts.append(" ")
        joiner_pending = None
        parts.append(group)
        if literals and not unanchored and (anchors is None or min(map(len, literals)) > min(map(len, anchors))):
            anchors = literals  # the most selective step
    if not parts:
        raise PhraseError(f"{text!r}: an empty phrase")
    pattern = "(?<!\\S)" + "".join(parts) + "(?!\\S)"
    return DangerPhrase(text, language, roman, re.compile(pattern), tuple(sorted(anchors or ())))


def _literals(word: str, roman: bool) -> set[str]:
    """Strings of which one occurs in any text a phrase word matches (for the quick test)."""
    word = word.replace("'", "").split("_")[0] if "_" in word.strip("_") else word.replace("'", "")
    word = word.lstrip("=").rstrip("*")
    if word == "\u061f":
        word = "?"
    if not (roman and _is_latin(word)):
        return {word} if word else set()
    key = roman_key(word)
    optional = [i for i in range(1, len(key) - 1) if key[i] in _ROMAN_VOWELS
                and key[i - 1] not in _ROMAN_VOWELS and key[i + 1] not in _ROMAN_VOWELS]
    out = set()
    for mask in range(1 << len(optional)):
        drop = {optional[j] for j in range(len(optional)) if mask >> j & 1}
        out.add("".join(c for i, c in enumerate(key) if i not in drop))
    return out


def _member_pattern(member: str, roman: bool, language: str) -> str:
    """A set entry: one word, or several (my brother, اس کو)."""
    words = [w.replace("'", "") for w in clean(str(member)).text.lower().split()]
    return ("(?:" + (" ?" if language == "ur" else " ").join(_word_pattern(w, roman, member, language) for w in words) + ")")


def _word_pattern(word: str, roman: bool, phrase: str = "", language: str = "") -> str:
    if "_" in word.strip("_"):  # a pair of words as one choice: bech_diya
        return "(?:" + (" ?" if language == "ur" else " ").join(
            _word_pattern(w, roman, phrase, language) for w in word.split("_") if w) + ")"
    if word in ("?", "\u061f"):
        return "\\?"
    if word.endswith("*"):
        stem = word[:-1]
        minimum = MIN_STEM["latin" if _is_latin(stem) else "other"]
        if len(stem) < minimum:
            raise PhraseError(f"{phrase or word!r}: the stem {stem!r} is too short for '*' (at least {minimum} letters)")
        return (_roman_pattern(stem) if roman and _is_latin(stem) else re.escape(stem)) + "\\S*"
    if word.startswith("="):
        return re.escape(roman_key(word[1:]) if roman and _is_latin(word[1:]) else word[1:])
    if roman and _is_latin(word):
        return _roman_pattern(word)
    return re.escape(word)


@dataclass
class PhraseList:
    phrases: list[DangerPhrase] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, by_language: dict | None, sets: dict[str, dict[str, list[str]]] | None = None) -> "PhraseList":
        out = []
        for language, items in (by_language or {}).items():
            language_sets = {name: list(by_lang.get(language) or []) for name, by_lang in (sets or {}).items()}
            out.extend(compile_phrase(str(item), str(language), language_sets) for item in items or [])
        return cls(out)

    def __post_init__(self):
        # the quick test: a phrase is tried only when one of its anchors is in the text
        self._always: list[int] = []
        self._index: dict[tuple[bool, str], list[int]] = {}
        for number, phrase in enumerate(self.phrases):
            if not phrase.anchors:
                self._always.append(number)
            for anchor in phrase.anchors:
                self._index.setdefault((phrase.roman, anchor), []).append(number)

    def find(self, plain: str, roman: str, pieces: tuple[set, set] | None = None) -> list[str]:
        """pieces: every part of every word of the plain and the roman text (see `pieces`)."""
        plain_pieces, roman_pieces = pieces or (_pieces(plain), _pieces(roman))
        candidates = set(self._always)
        index = self._index
        for is_roman, found in ((False, plain_pieces), (True, roman_pieces)):
            for piece in found:
                numbers = index.get((is_roman, piece))
                if numbers:
                    candidates.update(numbers)
        return [self.phrases[n].text for n in sorted(candidates) if self.phrases[n].search(plain, roman)]


def _pieces(text: str, longest: int = 24) -> set[str]:
    """Every part (up to `longest` letters) of every word: an anchor (a whole word, a stem, or an Urdu
    word written together with its neighbour) is always one of them."""
    out = set()
    for word in set(text.split(" ")):
        n = len(word)
        for i in range(n):
            for j in range(i + 1, min(n, i + longest) + 1):
                out.add(word[i:j])
    return out


_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[?\u061f]", re.UNICODE)


def prepared(text: str) -> tuple[str, str]:
    """The message as matched: its words (and question marks) joined by single spaces, lower case,
    without other punctuation; and the same with every Latin word in its Roman Urdu spelling."""
    tokens = [t.replace("'", "") for t in _TOKEN.findall(clean(text).text.lower().replace("\u061f", "?"))]
    return " ".join(tokens), " ".join(roman_key(t) if t.isascii() else t for t in tokens)


LISTS = ("strong", "ambiguous", "supporting", "general", "present", "about", "personal", "over", "idiom", "past",
         "serious")


@dataclass
class Scan:
    strong: list[str]
    ambiguous: list[str]
    supporting: list[str]
    general: list[str]
    present: list[str]
    about: list[str] = field(default_factory=list)
    personal: list[str] = field(default_factory=list)
    over: list[str] = field(default_factory=list)
    idiom: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    serious: list[str] = field(default_factory=list)

    @property
    def not_now(self) -> bool:
        """Clearly not a danger now, whatever the classifier says: the danger is over; or a joke, a story,
        a figure of speech ("my phone died") unless a strong phrase and a present cue are there too;
        or a past date ("in 2018", "saal pehle") with no present cue and no strong phrase."""
        if self.over:
            return True
        if self.idiom and not self.serious and not (self.strong and self.present):
            return True
        return bool(self.past) and not self.present and not self.strong

    @property
    def general_question(self) -> bool:
        if self.not_now:
            return True
        if self.present:
            return False
        return bool(self.general) or bool(self.about) and not (self.strong and self.personal)


@dataclass(frozen=True)
class UrgencyThresholds:
    """The urgency model's thresholds (content/safety/danger_lexicon.yml, key `urgency`), used instead of the
    classifier's when the net has an urgency model: `alone` urgent by itself, `support` with an ambiguous
    phrase, `context` with a supporting phrase, `ask` asked "Is someone in danger right now?"; `strong_floor`:
    a strong phrase the model finds this unlikely is asked about instead of urgent ("pubg mein usko headshot
    maar diya"); `general_override`: a general or "about" question the model is this sure of is urgent all
    the same ("he says if I tell anyone he will kill my mother": a danger told as a question); `idiom_override`:
    the same for a message with an idiom cue but no over or past cue ("my phone will die soon, we are in the
    sea")."""
    alone: float = 0.5
    support: float = 0.3
    context: float = 0.5
    ask: float = 0.4
    strong_floor: float = 0.1
    general_override: float = 0.9
    idiom_override: float = 1.01  # above 1: never
    alone_short: float = 0.5  # `alone` for a message of fewer than SHORT_WORDS words


@dataclass
class DangerLexicon:
    strong: PhraseList = field(default_factory=PhraseList)
    ambiguous: PhraseList = field(default_factory=PhraseList)
    supporting: PhraseList = field(default_factory=PhraseList)
    general: PhraseList = field(default_factory=PhraseList)
    present: PhraseList = field(default_factory=PhraseList)
    about: PhraseList = field(default_factory=PhraseList)
    personal: PhraseList = field(default_factory=PhraseList)
    over: PhraseList = field(default_factory=PhraseList)
    idiom: PhraseList = field(default_factory=PhraseList)
    past: PhraseList = field(default_factory=PhraseList)
    serious: PhraseList = field(default_factory=PhraseList)
    support: float = 0.10
    alone: float = 0.5
    context: float = 0.3
    ask: float = 1.0
    urgency: UrgencyThresholds = field(default_factory=UrgencyThresholds)

    @classmethod
    def from_yaml(cls, text: str) -> "DangerLexicon":
        data = yaml.safe_load(text) or {}
        sets = data.get("sets") or {}
        lists = {name: PhraseList.from_mapping(data.get(name), sets) for name in LISTS}
        given = data.get("urgency") or {}
        known = {"alone", "support", "context", "ask", "strong_floor", "general_override", "idiom_override",
                 "alone_short"}
        if not isinstance(given, dict) or set(given) - known:
            raise ValueError("urgency: expected a mapping with " + ", ".join(sorted(known)))
        urgency = UrgencyThresholds(**{k: float(v) for k, v in given.items()})
        return cls(**lists, support=float(data.get("support", 0.10)), alone=float(data.get("alone", 0.5)),
                   context=float(data.get("context", 0.3)), ask=float(data.get("ask", 1.0)), urgency=urgency)

    @classmethod
    def from_file(cls, path: Path) -> "DangerLexicon":
        return cls.from_yaml(path.read_text(encoding="utf-8"))

    @property
    def longest(self) -> int:
        """The longest anchor of any phrase (the quick test looks at word parts up to this length)."""
        if not hasattr(self, "_longest"):
            self._longest = max((len(a) for n in LISTS for p in getattr(self, n).phrases for a in p.anchors), default=1)
        return self._longest

    def scan(self, text: str) -> Scan:
        """Every list is looked for: the cues also matter when only the classifier fired."""
        plain, roman = prepared(text)
        pieces = (_pieces(plain, self.longest), _pieces(roman, self.longest))
        return Scan(**{name: getattr(self, name).find(plain, roman, pieces) for name in LISTS})


class UrgencyPort(Protocol):
    def probability(self, text: str) -> float: ...


# a bag of n-grams says little about one or two words ("nahi" is no danger, "bachao" is): shorter messages are
# judged by the phrases and the intent classifier, as without the urgency model
URGENCY_MIN_WORDS = 3
SHORT_WORDS = 6  # below this many words the urgency model alone needs `alone_short`


class DangerNet:
    """urgency: the urgency model (bot/urgency.py); without it (or for a message shorter than
    URGENCY_MIN_WORDS words) the intent classifier's p(emergency) is used, with the lexicon's own thresholds
    (and the rule "emergency is its first guess")."""

    def __init__(self, lexicon: DangerLexicon, urgency: UrgencyPort | None = None):
        self.lexicon, self.urgency = lexicon, urgency

    @classmethod
    def from_file(cls, path: Path, urgency: UrgencyPort | None = None) -> "DangerNet":
        return cls(DangerLexicon.from_file(path), urgency)

    def assess(self, text: str, result: HasRanking, classifier_down: bool = False) -> SafetyVerdict:
        """classifier_down: the NLU did not answer; without an urgency model, strong and ambiguous phrases
        alone make it urgent, supporting ones ask (the urgency model runs in this process: it still answers)."""
        lex = self.lexicon
        p = result.probability("emergency")
        scan = lex.scan(text)
        words = len(prepared(text)[0].split())
        if self.urgency is not None and words >= URGENCY_MIN_WORDS:
            u = self.urgency.probability(text)
            th = lex.urgency
            named = "urgency model"
            # a short message ("no it's not", "نہیں وہ نہیں", "bot bas karo, kisi bande ko bhejo") gives the n-grams
            # little to go on: the model alone needs to be surer of it
            alone = th.alone if words >= SHORT_WORDS else max(th.alone, th.alone_short)
            sure, unsure = u >= alone, u >= th.ask
            support, context = u >= th.support, u >= th.context
            down = False
        else:
            u = None
            top = result.intent == "emergency"
            named = "classifier"
            sure, unsure = top and p >= lex.alone, top and p >= lex.ask
            support, context = p >= lex.support, top or p >= lex.context
            down = classifier_down
        general = scan.general_question
        phrases = tuple(scan.strong + scan.ambiguous)
        both = "lexicon+urgency" if u is not None else "lexicon+classifier"

        def verdict(urgent: bool, source: str = "", matched: tuple = (), ask: bool = False) -> SafetyVerdict:
            kind = next((name for name in ("strong", "ambiguous", "supporting")
                         if matched and set(matched) & set(getattr(scan, name))), "")
            return SafetyVerdict(urgent, source, matched, general, ask, p, kind, u)

        if general:  # 1
            # a danger told as a question, or in the idiom list's words ("my phone will die soon, we are in the
            # sea"), that the model is sure of
            if u is not None and (u >= th.general_override and not scan.not_now
                                  or u >= th.idiom_override and scan.idiom and not (scan.over or scan.past)):
                return verdict(True, named, phrases + tuple(scan.supporting))
            mine = bool(scan.strong and scan.personal)  # "what if they lock me in", "agar mujhe band kar dein to"
            return verdict(False, matched=phrases, ask=bool(phrases) and not scan.not_now and (sure or mine))
        if scan.strong:  # 2
            if u is not None and u < th.strong_floor:  # the words, but the model sees no danger now: ask
                return verdict(False, matched=tuple(scan.strong), ask=True)
            return verdict(True, both if support else "lexicon", tuple(scan.strong))
        if sure:  # 3
            return verdict(True, named, phrases + tuple(scan.supporting))
        if scan.ambiguous and (support or down):  # 4
            return verdict(True, "lexicon" if down else both, tuple(scan.ambiguous))
        if scan.supporting and context:  # 5
            return verdict(True, both, tuple(scan.supporting))
        if scan.ambiguous or (down and scan.supporting):  # 6
            return verdict(False, matched=tuple(scan.ambiguous or scan.supporting), ask=True)
        if unsure:  # 7: the model leans towards danger, but unsure
            return verdict(False, matched=tuple(scan.supporting), ask=True)
        return verdict(False, matched=tuple(scan.supporting))  # 8
