"""Entities: the country lookup table (built from nlu/entities/countries.txt, the file editors keep) and
money amounts (normalised to a number and a currency code)."""
from __future__ import annotations

import re
from pathlib import Path

URDU_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫", "01234567890123456789.")
_NUMBER_WORDS = {
    "ek": 1, "aik": 1, "one": 1, "ایک": 1, "do": 2, "two": 2, "دو": 2, "teen": 3, "three": 3, "تین": 3,
    "char": 4, "chaar": 4, "four": 4, "چار": 4, "panch": 5, "paanch": 5, "five": 5, "پانچ": 5,
    "chay": 6, "chhe": 6, "six": 6, "چھ": 6, "saat": 7, "seven": 7, "سات": 7, "aath": 8, "eight": 8, "آٹھ": 8,
    "nau": 9, "nine": 9, "نو": 9, "das": 10, "ten": 10, "دس": 10, "bees": 20, "twenty": 20, "بیس": 20,
    "tees": 30, "تیس": 30, "chalees": 40, "pachas": 50, "pachaas": 50, "fifty": 50, "پچاس": 50,
    "dedh": 1.5, "derh": 1.5, "ڈیڑھ": 1.5, "dhai": 2.5, "dhaai": 2.5, "ڈھائی": 2.5,
}
_SCALES = {"lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5, "laakh": 1e5, "لاکھ": 1e5, "crore": 1e7, "crores": 1e7,
           "karor": 1e7, "کروڑ": 1e7, "hazar": 1e3, "hazaar": 1e3, "ہزار": 1e3, "thousand": 1e3, "k": 1e3, "million": 1e6}
_CURRENCIES = [
    ("PKR", r"rs\.?|pkr|rupees?|rupay[ea]?|روپے|روپیہ|روپئے"), ("AED", r"aed|dirhams?|dhs|درہم"),
    ("SAR", r"sar|riyals?|ریال"), ("QAR", r"qar"), ("USD", r"usd|dollars?|\$|ڈالر"), ("EUR", r"eur|euros?|€|یورو"),
    ("GBP", r"gbp|pounds?|£|پاؤنڈ"),
]
_TOKEN = re.compile(r"\d[\d,.]*|[^\W\d_]+|[$€£]", re.UNICODE)


def normalize_amount(value: str) -> dict:
    """'5 lakh rupees' -> {'number': 500000, 'currency': 'PKR'}; currency PKR when only a scale word
    such as lakh or hazar is given (those are South Asian units), None when it cannot be told."""
    text = value.lower().translate(URDU_DIGITS)
    number: float | None = None
    scale = 1.0
    currency = None
    for token in _TOKEN.findall(text):
        if token[0].isdigit():
            digits = token.replace(",", "").rstrip(".")
            try:
                number = float(digits)
            except ValueError:
                continue
        elif token.endswith("k") and token[:-1].replace(",", "").replace(".", "").isdigit():
            number, scale = float(token[:-1].replace(",", "")), 1e3
        elif token in _NUMBER_WORDS and number is None:
            number = float(_NUMBER_WORDS[token])
        elif token in _SCALES:
            scale = _SCALES[token]
        else:
            for code, pattern in _CURRENCIES:
                if re.fullmatch(pattern, token):
                    currency = code
                    break
    compact = text.replace(" ", "")
    if number is not None and re.search(r"\d[kK]$", compact):
        scale = 1e3
    if currency is None and scale in (1e5, 1e7) or currency is None and any(w in text for w in ("hazar", "hazaar", "ہزار")):
        currency = "PKR"
    total = None if number is None else round(number * scale, 2)
    if total is not None and total == int(total):
        total = int(total)
    return {"number": total, "currency": currency}


def dedupe(entities: list[dict]) -> list[dict]:
    """Drop an entity whose span lies inside a longer one of the same type ('Rs 5 lakh' over '5 lakh')."""
    kept: list[dict] = []
    for ent in sorted(entities, key=lambda e: (e["start"], -(e["end"] - e["start"]))):
        if any(k["entity"] == ent["entity"] and k["start"] <= ent["start"] and ent["end"] <= k["end"] for k in kept):
            continue
        kept.append(ent)
    return kept


def read_countries(path: Path) -> dict[str, list[str]]:
    """canonical name -> the ways of writing it, from the editors' countries.txt."""
    countries: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        canonical, *variants = [part.strip() for part in line.split("|")]
        countries[canonical] = [v for v in variants if v]
    return countries


def countries_yaml(countries: dict[str, list[str]]) -> str:
    """Rasa lookup table and synonyms. Longest names first: the lookup regex is an alternation, and
    'saudi' listed before 'saudi arabia' would win."""
    names = sorted({v for vs in countries.values() for v in vs} | set(countries), key=lambda s: (-len(s), s))
    out = ['version: "3.1"', "# Generated from nlu/entities/countries.txt by `safesafar nlu train`: edit that file.", "nlu:",
           "- lookup: country", "  examples: |"]
    out += [f"    - {name}" for name in names]
    for canonical, variants in countries.items():
        others = [v for v in variants if v != canonical]
        if others:
            out += [f"- synonym: {canonical}", "  examples: |"] + [f"    - {v}" for v in others]
    return "\n".join(out) + "\n"
