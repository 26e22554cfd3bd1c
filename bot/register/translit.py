"""Firm names typed in Urdu script, brought to Latin letters so that they can be matched against the
register (which is in English).

Urdu writes few vowels, so a name is compared by its consonant skeleton: `skeleton("Rehman") ==
skeleton(to_latin("رحمان"))`. The table maps each letter to the Latin letters a register name would
use; letters that stand for vowels (ا و ی ے ع) become vowels or disappear in the skeleton.
"""
from __future__ import annotations

import re
import unicodedata

URDU_TO_LATIN = {
    "ا": "a", "آ": "a", "أ": "a", "إ": "i", "ب": "b", "پ": "p", "ت": "t", "ٹ": "t", "ث": "s", "ج": "j",
    "چ": "ch", "ح": "h", "خ": "kh", "د": "d", "ڈ": "d", "ذ": "z", "ر": "r", "ڑ": "r", "ز": "z", "ژ": "zh",
    "س": "s", "ش": "sh", "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f", "ق": "q",
    "ک": "k", "ك": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "ں": "n", "و": "o", "ؤ": "o", "ہ": "h",
    "ھ": "h", "ة": "h", "ۃ": "h", "ه": "h", "ء": "", "ئ": "y", "ی": "y", "ي": "y", "ى": "y", "ے": "e",
    "ۓ": "e", "ٔ": "", "ً": "", "ٌ": "", "ٍ": "", "َ": "", "ُ": "", "ِ": "", "ّ": "", "ْ": "", "ٰ": "",
    "۔": " ", "،": " ", "؟": " ", "ـ": "",
}
_URDU = re.compile(r"[\u0600-\u06FF]")

# legal and trade words of firm names as they are written in Urdu; dropped like their English forms
URDU_NOISE = (
    "میسرز", "ایم ایس", "پرائیویٹ", "پرائیوٹ", "پرائویٹ", "لمیٹڈ", "لمیٹیڈ", "اوورسیز", "اوورسیز", "اورسیز", "اوور سیز",
    "ایمپلائمنٹ", "ایمپلائیمنٹ", "ایمپلاءمنٹ", "پروموٹرز", "پروموٹر", "پروموٹرس", "مین پاور", "مینپاور", "انٹرنیشنل",
    "ٹریول اینڈ ٹورز", "ٹریولز", "ٹریول", "ٹورز", "اینڈ", "اور", "کمپنی", "ایجنسی", "سروسز", "ریکروٹنگ",
    "ریکروٹمنٹ", "کنسلٹنٹس", "کنسلٹنٹ", "انٹرپرائزز",
)


def has_urdu(text: str) -> bool:
    return bool(_URDU.search(text or ""))


def to_latin(text: str) -> str:
    """Urdu letters in Latin (lower case); other characters kept."""
    text = unicodedata.normalize("NFC", text)
    for word in sorted(URDU_NOISE, key=len, reverse=True):
        text = re.sub(rf"(?<![\u0600-\u06FF]){re.escape(word)}(?![\u0600-\u06FF])", " ", text)
    # a word-final ہ after a consonant is a vowel (ہنزہ Hunza, مدینہ Madina); after ا it is h (شاہ Shah)
    text = re.sub(r"(?<=[\u0600-\u06FF])(?<!ا)ہ(?![\u0600-\u06FF])", "a", text)
    out = []
    for char in text:
        out.append(URDU_TO_LATIN.get(char, char))
    return " ".join("".join(out).lower().split())


_SOFT_C = re.compile(r"c(?=[eiy])")


def skeleton(latin: str) -> str:
    """The consonants of a Latin name as Urdu would write them: vowels, w and y dropped (Urdu writes
    them with ا و ی or not at all), q as k, z as s, c as k or s, d and th as t, doubled letters once. Words stay apart."""
    words = []
    for word in latin.lower().split():
        word = re.sub(r"^ex(?=[aeiou])", "egz", word)  # example: ایگزامپل
        word = re.sub(r"gh(?=t)", "", word).replace("th", "t")  # heights: ہائٹس; brothers: برادرز
        word = _SOFT_C.sub("s", word).replace("c", "k").replace("q", "k").replace("x", "ks").replace("z", "s")
        word = word.replace("v", "w").replace("d", "t")  # English d and t are both ڈ/ٹ/د/ت in Urdu
        word = re.sub(r"[aeiouwy'’`\-.]", "", word)
        word = re.sub(r"(.)\1+", r"\1", word)
        if word:
            words.append(word)
    return " ".join(words)
