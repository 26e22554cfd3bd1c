"""Personal data out of a user's message before it can become training data (the learning inbox stores
only what `redact` returns; only that is ever written to nlu/data).

Removed, each replaced by a placeholder word without brackets (training data may not hold `[ ]` or `{ }`):
- CNIC numbers (13 digits, with or without the 5-7-1 dashes)                    -> <cnic>
- phone numbers (Pakistani mobiles and landlines, +92 / 0092, international +CC / 00CC forms;
  Western, Urdu and Arabic-Indic digits; 9 digits or more, separated by spaces, dashes, dots or
  brackets)                                                                          -> <phone>
- e-mail addresses                                                                  -> <email>
- passport numbers (one or two letters then 6 to 8 digits: AB1234567)              -> <passport>
- names: the ones the caller knows (the user's channel name, the staff's names), those a message gives
  ("my name is Ali", "mera naam Ali hai", "میرا نام علی ہے") and those before or after a title ("Bilal
  bhai", "Mr Khan", "اسلم صاحب")                                                    -> <name>
- an amount tied to a name ("Bilal bhai ko 2 lakh diye"): the amount too            -> <amount>

Kept: short numbers (the 1991 or 111 helplines, years, "2 lakh" alone, ages), UAN numbers (111-...),
toll-free 0800 numbers, licence numbers (0848/LHR), countries and cities.

Pure: no I/O, no framework.
"""
from __future__ import annotations

import re
from typing import Iterable

D = r"[0-9\u06F0-\u06F9\u0660-\u0669]"  # a digit: Western, Urdu (extended Arabic-Indic) or Arabic-Indic
_DIGIT_MAP = {ord(c): str(i) for i, c in enumerate("\u06F0\u06F1\u06F2\u06F3\u06F4\u06F5\u06F6\u06F7\u06F8\u06F9")}
_DIGIT_MAP.update({ord(c): str(i) for i, c in enumerate("\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")})

PLACEHOLDERS = ("<cnic>", "<phone>", "<email>", "<passport>", "<name>", "<amount>")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_CNIC = re.compile(rf"(?<![\w-]){D}{{5}}-{D}{{7}}-{D}(?![\w-])|(?<![\w]){D}{{13}}(?!\w)")
# a phone number: an optional + or 00, then digits in groups separated by one space, dash, dot or bracket
_PHONE = re.compile(rf"(?<![\w/,.])(?:\+\s?|\(\+?)?{D}(?:[\s.\-()]{{0,2}}{D}){{7,16}}(?![\w/])")
_PASSPORT = re.compile(r"(?<![\w/])[A-Za-z]{1,2}[0-9]{6,8}(?![\w/])")

# amounts (a shape of nlu/data/entities/amount.yml: a number with a scale word or a currency)
_NUM = rf"(?:{D}[{D[1:-1]},.٫]*)"
_SCALE = r"(?:lakhs?|lacs?|laakh|crores?|karor|hazaa?r|thousand|million|k|لاکھ|کروڑ|ہزار)"
_CUR = r"(?:rupees?|rupay[ea]?|rs\.?|pkr|dirhams?|aed|riyals?|sar|dollars?|usd|euros?|pounds?|روپے|روپیہ|درہم|ریال|ڈالر|یورو)"
_AMOUNT = re.compile(rf"(?<![\w.])(?:(?:rs\.?|pkr|aed|sar|usd|\$|€|£)\s?{_NUM}(?:\s?{_SCALE})?"
                     rf"|{_NUM}\s?{_SCALE}(?:\s?{_CUR})?|{_NUM}\s?{_CUR})(?![\w])", re.IGNORECASE)

# names a message gives, or names next to a title
_WORD = r"[A-Za-z][a-z]+|[\u0600-\u06FF]{2,}"
_CAP = r"[A-Z][a-z]+"
_NAME_GIVEN = [
    re.compile(rf"\b(?:my name is|i am called|this is)\s+((?:{_CAP})(?:\s+{_CAP})?)"),
    re.compile(r"\b(?:mera|meri|mere)\s+(?:naam|nam|name)\s+((?:[A-Za-z]+)(?:\s+[A-Za-z]+)?)\s+(?:hai|he|hay|h|ha)\b",
               re.IGNORECASE),
    re.compile(r"میرا\s+نام\s+([\u0600-\u06FF]+(?:\s+[\u0600-\u06FF]+)?)\s+ہے"),
]
_TITLE_AFTER = re.compile(rf"\b({_CAP})\s+(?:bhai|bhae|bhaijan|sahab|sahib|saab|sb|ji|uncle|baji)\b")
_TITLE_AFTER_LOWER = re.compile(r"\b([a-z]{3,})\s+(?:bhai|bhae|sahab|sahib|saab)\b")
_TITLE_BEFORE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Mister|Madam|Chaudhry|Ch|Malik|Haji|Hafiz)\.?\s+({_CAP}(?:\s+{_CAP})?)")
_TITLE_URDU = re.compile(r"([\u0600-\u06FF]{2,})\s+(?:بھائی|صاحب|جی)(?![\u0600-\u06FF])")
# words before a title that are not names ("agent bhai", "mere bhai", "koi sahab")
_NOT_NAMES = {
    "agent", "mere", "meray", "mera", "apne", "apnay", "mai", "main", "hum", "aap", "koi", "wo", "woh", "ye", "yeh",
    "is", "us", "ek", "aik", "dost", "bara", "bare", "bade", "chota", "chote", "yaar", "sir", "the", "my", "our",
    "your", "his", "her", "a", "an", "uncle", "bhai", "sahab", "company", "consultant", "visa", "manager", "boss",
    "please", "plz", "hi", "hello", "salam", "assalam", "jee", "han", "haan", "nahi", "thank", "thanks", "ok",
    "میرے", "میرا", "ایجنٹ", "کوئی", "وہ", "یہ", "آپ", "ہمارے", "بڑے", "چھوٹے", "دوست",
}
_TIED = 4  # an amount within this many words of a name is tied to it


def digits(text: str) -> str:
    """Urdu and Arabic-Indic digits as Western ones."""
    return text.translate(_DIGIT_MAP)


def _count_digits(span: str) -> int:
    return sum(ch.isdigit() for ch in span)


def _is_phone(span: str) -> bool:
    plain = re.sub(r"\D", "", digits(span))
    if len(plain) < 9 or len(plain) > 15:
        return False
    if plain.startswith("111") and len(plain) <= 10:  # a UAN (111-xxx-xxx): a public number
        return False
    if plain.startswith("0800"):  # toll free
        return False
    return True


def _name_spans(text: str, names: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for name in {n.strip() for n in names if n and n.strip()}:
        for token in re.split(r"\s+", name):
            token = token.strip(".,;:!?'\"()")
            if len(token) < 3:
                continue
            for match in re.finditer(rf"(?<![\w]){re.escape(token)}(?![\w])", text, re.IGNORECASE):
                spans.append(match.span())
    for pattern in _NAME_GIVEN:
        for match in pattern.finditer(text):
            spans.append(match.span(1))
    for pattern in (_TITLE_AFTER, _TITLE_AFTER_LOWER, _TITLE_BEFORE, _TITLE_URDU):
        for match in pattern.finditer(text):
            words = match.group(1).split()
            if words and words[0].lower() not in _NOT_NAMES and words[0] not in _NOT_NAMES:
                spans.append(match.span(1))
    return spans


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replaces non-overlapping spans (the earliest, then the longest wins)."""
    chosen: list[tuple[int, int, str]] = []
    for start, end, token in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end, token))
    out, last = [], 0
    for start, end, token in chosen:
        out.append(text[last:start])
        out.append(token)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """`text` with the personal data above replaced; `names`: names known to be personal (the user's
    first and last name from the channel, the staff's names)."""
    spans: list[tuple[int, int, str]] = []
    for match in _EMAIL.finditer(text):
        spans.append((*match.span(), "<email>"))
    for match in _CNIC.finditer(text):
        spans.append((*match.span(), "<cnic>"))
    for match in _PHONE.finditer(text):
        if _is_phone(match.group(0)):
            start, end = match.span()
            while end > start and not text[end - 1].isdigit():  # "(0300 1234567)" keeps its bracket
                end -= 1
            spans.append((start, end, "<phone>"))
    for match in _PASSPORT.finditer(text):
        spans.append((*match.span(), "<passport>"))
    taken = [(s, e) for s, e, _ in spans]
    names_found = [(s, e) for s, e in _name_spans(text, names) if not any(s < te and ts < e for ts, te in taken)]
    spans += [(s, e, "<name>") for s, e in names_found]
    if names_found:  # an amount near a name is a fact about that person
        for match in _AMOUNT.finditer(text):
            start, end = match.span()
            for ns, ne in names_found:
                between = text[min(ne, end):max(ns, start)]
                if len(between.split()) <= _TIED:
                    spans.append((start, end, "<amount>"))
                    break
    return _replace(text, spans)
