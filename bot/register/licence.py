"""Licence numbers of Overseas Employment Promoters, normalised to `NNNN/REG`.

Seen in the wild: `0008  / RWP`, `OEPL No. 1234/RWP`, `OEPL No.1234/RWP`, `(OEPL No. 0848/LHR)`,
`OEP No.1788/RWP`, `3768./RWP`, `1234 / Malakand`. Region codes are an open list (RWP, LHR, KHI, PSH,
QTA, Malakand, Multan, Sialkot, ...): any word of letters after the slash is taken, upper-cased.
Regular expressions here read plain text (a table cell, a notice title, a message), never HTML.
"""
from __future__ import annotations

import re

# Urdu/Arabic-Indic digits as typed on phones
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

# number, an optional stray dot, a slash (or a dash/backslash), the region word
_SLASHED = re.compile(r"(?<![\d/])(\d{1,5})\s*\.?\s*[/\\\-–]\s*([A-Za-z]{2,15})\b")
# `RWP/1234` (region first) is written by some people
_REGION_FIRST = re.compile(r"\b([A-Za-z]{3,15})\s*[/\\\-]\s*(\d{1,5})\b")
# `1234 RWP`: a space only, for the region codes known
_SPACED = re.compile(r"(?<![\d/])(\d{1,5})\s+([A-Za-z]{3,15})\b")
# `OEPL No. 1234` or `licence 1234` without a region
_PREFIXED_BARE = re.compile(r"\b(?:OEPL?|licen[cs]e|lic)\b\.?\s*(?:No\.?|number|#)?\s*[:.]?\s*(\d{1,5})\b(?!\s*\.?\s*[/\\\-])",
                            re.IGNORECASE)
_PREFIX = re.compile(r"\b(?:OEPL?|licen[cs]e|lic)\b\.?\s*(?:No\.?|number|#)?\s*[:.]?\s*$", re.IGNORECASE)
_BARE = re.compile(r"^\s*(?:No\.?\s*)?(\d{1,5})\s*\.?\s*$", re.IGNORECASE)
# words that are not regions even after a slash
_NOT_REGIONS = {"NO", "OEP", "OEPL", "LICENCE", "LICENSE", "DATED", "DATE"}

# the cities of the region codes seen; others are shown as written
CITIES = {"RWP": "Rawalpindi", "LHR": "Lahore", "KHI": "Karachi", "PSH": "Peshawar", "PEW": "Peshawar",
          "QTA": "Quetta", "ISB": "Islamabad", "MLN": "Multan", "MULTAN": "Multan", "MALAKAND": "Malakand",
          "SIALKOT": "Sialkot", "SKT": "Sialkot", "FSD": "Faisalabad", "GRW": "Gujranwala", "DGK": "Dera Ghazi Khan",
          "MARDAN": "Mardan", "BANNU": "Bannu", "HYD": "Hyderabad", "SKR": "Sukkur", "GILGIT": "Gilgit",
          "MPR": "Mirpur", "MIRPUR": "Mirpur"}


def key(number: int | str, region: str) -> str:
    return f"{int(number):04d}/{region.upper()}"


def normalise(text: str) -> str | None:
    """The one licence number written in a cell or a message, as `NNNN/REG`, or None."""
    found = find(text)
    return found[0] if found else None


def find(text: str, known_regions: bool = False) -> list[str]:
    """Every licence number with a region in a text (a notice title, a message), normalised, in order.
    known_regions: only regions of CITIES, or any after "OEP(L) No." / "licence" (a message that was not
    asked for a licence: "paid 5000/RS" is money, not a licence)."""
    text = (text or "").translate(_DIGITS)
    out: list[str] = []
    for match in _SLASHED.finditer(text):
        region = match.group(2).upper()
        if region in _NOT_REGIONS:
            continue
        if known_regions and region not in CITIES and not _PREFIX.search(text[:match.start()][-20:]):
            continue
        out.append(key(match.group(1), region))
    if not out:
        for match in _REGION_FIRST.finditer(text):
            region = match.group(1).upper()
            if region not in _NOT_REGIONS and region in CITIES:
                out.append(key(match.group(2), region))
    if not out:
        for match in _SPACED.finditer(text):
            if match.group(2).upper() in CITIES:
                out.append(key(match.group(1), match.group(2)))
    return list(dict.fromkeys(out))


def bare_number(text: str) -> int | None:
    """A licence number without its region: a message that is only a number ("1234", "No. 0848"), or
    one after `OEPL No.` / `licence`. None when the text carries none (or carries a region)."""
    text = (text or "").translate(_DIGITS)
    if find(text):
        return None
    match = _BARE.match(text) or _PREFIXED_BARE.search(text)
    return int(match.group(1)) if match else None


def city(licence: str) -> str:
    region = licence.partition("/")[2]
    return CITIES.get(region, region.title() if len(region) > 3 else region)
