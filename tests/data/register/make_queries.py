"""Writes tests/data/register/queries.tsv, the matcher's labelled set (query, expected licence or "none",
category) against the fixtures of make_fixtures.py. Typos, word order and noise words are made by fixed
rules from each firm's name (seeded); Urdu-script names, licence-number variants and names that are not
on the register are written by hand below. The output is committed; the test reads only the TSV.

    .venv/bin/python tests/data/register/make_queries.py
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from make_fixtures import FIRMS

HERE = Path(__file__).resolve().parent
NOISE = re.compile(r"\b(?:M/s|Overseas Employment Promoters|Overseas|Manpower Services|Manpower|International|"
                   r"Travel & Tours|\(Pvt\.?\) Ltd\.?|\(Private\) Limited|Services|Recruiting Agency|Recruitment|"
                   r"Employment Services|Enterprises|Consultants)\b", re.IGNORECASE)
NEIGHBOURS = {"a": "s", "e": "r", "i": "o", "o": "i", "u": "y", "n": "m", "m": "n", "r": "t", "s": "a", "t": "r",
              "l": "k", "k": "l", "h": "j", "d": "f", "g": "h", "b": "v", "p": "o", "c": "x", "y": "u", "w": "q"}

URDU = [  # (query, licence)
    ("ہنزہ پیک مین پاور", "0017/RWP"), ("سیمپل کریسنٹ سٹار اوورسیز", "0023/LHR"),
    ("سیمپل قراقرم گیٹ وے اوورسیز", "0066/RWP"), ("ایگزامپل النور ریکروٹنگ ایجنسی", "0071/LHR"),
    ("ڈمی نانگا پربت اوورسیز", "0104/RWP"), ("ایگزامپل سوات ویلی", "0112/MALAKAND"),
    ("ٹیسٹ سیالکوٹ سپورٹس", "0133/SIALKOT"), ("ڈیمو شندور پولو انٹرنیشنل", "0148/PSH"),
    ("ڈمی دیوسائی پلینز", "0169/RWP"), ("سیمپل انڈس ڈیلٹا", "0175/KHI"), ("ڈیمو راول لیک", "0193/RWP"),
    ("ایگزامپل زیارت جونیپر انٹرنیشنل", "0207/QTA"), ("ڈمی مدینہ برکت اوورسیز ایمپلائمنٹ پروموٹرز", "0226/LHR"),
    ("ٹیسٹ رحمان برادرز مین پاور", "0231/RWP"), ("ڈیمو فالکن ونگز ٹریول اینڈ ٹورز", "0245/KHI"),
    ("ایگزامپل شاہین اوورسیز", "0258/PSH"), ("سیمپل نور سحر انٹرنیشنل", "0262/LHR"),
    ("ڈمی بلتورو گلیشیئر", "0279/RWP"), ("ٹیسٹ چناب ریور", "0283/SIALKOT"), ("ایگزامپل پسو کونز", "0301/RWP"),
    ("سیمپل برکات مین پاور", "0318/LHR"), ("سیمپل مہران اوورسیز", "0363/KHI"), ("ڈمی مارگلہ ہائٹس", "0378/RWP"),
    ("ایگزامپل گلگت سٹار", "0402/RWP"), ("سیمپل خنجراب پاس", "0563/RWP"), ("ڈیمو راکاپوشی ویو", "0597/RWP"),
    ("ایگزامپل ٹیسٹ اوورسیز ایمپلائمنٹ پروموٹرز", "0008/RWP"), ("ڈمی مینار پاکستان اوورسیز", "0421/LHR"),
    ("ایگزامپل لاہور فورٹ ٹریول اینڈ ٹورز", "0458/LHR"), ("ایگزامپل جناح گارڈن مین پاور", "0559/LHR"),
    ("میسرز ٹیسٹ گولڈن ایگل انٹرنیشنل", "0337/RWP"), ("ڈیمو ڈیٹا دربار مین پاور", "0342/LHR"),
]
LICENCES = [  # (query, licence)
    ("OEPL No. 0017/RWP", "0017/RWP"), ("OEPL No.0023/LHR", "0023/LHR"), ("(OEPL No. 0066/RWP)", "0066/RWP"),
    ("OEP No.0071/LHR", "0071/LHR"), ("104./RWP", "0104/RWP"), ("0112 / Malakand", "0112/MALAKAND"),
    ("127/multan", "0127/MULTAN"), ("0133 /Sialkot", "0133/SIALKOT"), ("licence no 148/PSH", "0148/PSH"),
    ("169 rwp", "0169/RWP"),
    ("is 0175/KHI licensed?", "0175/KHI"), ("0188 / LHR", "0188/LHR"), ("OEPL No 193/RWP", "0193/RWP"),
    ("207-QTA", "0207/QTA"), ("0214./Multan", "0214/MULTAN"), ("0226/lhr", "0226/LHR"), ("231 / RWP", "0231/RWP"),
    ("oepl no. 0245/khi", "0245/KHI"), ("0258/PSH", "0258/PSH"), ("licence 262/LHR", "0262/LHR"),
    ("0279 / RWP", "0279/RWP"), ("283/SIALKOT", "0283/SIALKOT"), ("OEP No. 296/KHI", "0296/KHI"),
    ("۰۳۰۱/RWP", "0301/RWP"), ("RWP/0337", "0337/RWP"), ("0402/RWP", "0402/RWP"), ("0503 / PSH", "0503/PSH"),
    ("597/RWP", "0597/RWP"), ("0611/LHR", "none"), ("9999/RWP", "none"), ("0008/KHI", "none"), ("1234/LHR", "none"),
    ("0443", "0443/RWP"), ("OEPL No. 559", "0559/LHR"), ("563", "0563/RWP"), ("0008", "0008/RWP|0008/LHR"),
    ("8", "0008/RWP|0008/LHR"), ("4321", "none"), ("0008/LHR", "0008/LHR"), ("0008 / RWP", "0008/RWP"),
]
HARD = [  # written by hand, as people spell: the marker word left out, Roman spellings, two typos
    ("hunza peak manpower", "0017/RWP|0503/PSH"), ("karakorum getway overseas", "0066/RWP"),
    ("rehmaan brothers", "0231/RWP"), ("madinah barakat overseas", "0226/LHR"), ("al noor recruiting agency", "0071/LHR"),
    ("nanga parbat overseas rawalpindi", "0104/RWP"), ("swat vally overseas", "0112/MALAKAND"),
    ("shandoor polo", "0148/PSH"), ("deosai plain manpower", "0169/RWP"), ("indus delta", "0175/KHI"),
    ("rawal lake overseas employment", "0193/RWP"), ("ziarat junipar", "0207/QTA"), ("falcon wing travel", "0245/KHI"),
    ("shaheen overseas", "0258/PSH"), ("noor e sehar", "0262/LHR"), ("baltoro glaciar manpower", "0279/RWP"),
    ("chenab rivr overseas", "0283/SIALKOT"), ("passu cone", "0301/RWP"), ("barkat manpower", "0318/LHR"),
    ("golden eagel international", "0337/RWP"), ("data darbaar manpower", "0342/LHR"), ("mehraan overseas", "0363/KHI"),
    ("margala heights", "0378/RWP"), ("gilgit star overseas employment promoters", "0402/RWP"),
    ("karachi port manpower services", "0416/KHI"), ("minar e pakistan overseas", "0421/LHR"),
    ("qissa khwani peshawar", "0437/PSH"), ("lahore fort travel n tours", "0458/LHR"), ("hawks bay", "0462/KHI"),
    ("taxila heritage", "0479/RWP"), ("khunjrab pass overseas", "0563/RWP"), ("faisal masjid overseas", "0584/LHR"),
    ("rakaposhi veiw", "0597/RWP"), ("jinnah gardens manpower", "0559/LHR"), ("sialkot sport overseas", "0133/SIALKOT"),
    ("clifton pearl", "0090/KHI"), ("sea breez travel and tours", "0031/KHI"), ("khyber gate intl", "0044/PSH"),
    ("bolan valley manpower pvt ltd", "0052/QTA"), ("mango city manpower", "0127/MULTAN"),
]
NOT_ON_REGISTER = [
    "Golden Visa Consultants", "Dubai Dream Jobs", "Karachi Fast Visa Services", "Al-Falah Travel Agency",
    "Super Star Manpower", "Euro Jobs Pakistan", "Green Card Consultants", "Quick Work Permit Centre",
    "Royal Gulf Recruiters", "Blue Ocean Travels", "Paradise Overseas", "Saudi Visa Center Rawalpindi",
    "Hunza Gold Jobs", "Karakoram Express Travels", "Swat Paradise Tours", "Pak Gulf Employment",
    "Italy Work Visa Agent", "Zain Brothers Visa Services", "Madni Travel & Tours", "Skyline Consultants",
    "Crown Manpower Agency", "Lahore Visa Corner", "Global Careers International", "Faisal Town Recruiters",
    "Indus Star Trading", "Qatar Jobs Hub", "Oman Employment Bureau", "Frontier Job Link", "Metro Visa Desk",
    "Peshawar Travels", "Hunza Peak Gold Travels", "Karakoram Gateway Express", "Crescent Sun Manpower",
    "Al-Noor Visa Services", "Sadiq Sons Enterprises", "Swat Valley Jobs Centre", "گولڈن ویزا کنسلٹنٹس", "دبئی جاب سینٹر", "الفلاح ٹریول ایجنسی", "سپر سٹار مین پاور",
    "رائل گلف ریکروٹرز",
]


def distinctive(title: str) -> str:
    return " ".join(NOISE.sub(" ", title).replace("(", " ").replace(")", " ").split())


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "near"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + NEIGHBOURS.get(word[i].lower(), word[i]) + word[i + 1:]


def write() -> None:
    rng = random.Random(21)
    rows: list[tuple[str, str, str]] = []
    same_core: dict[str, list[str]] = {}
    for number, _proprietor, title, _status, _expiry in FIRMS:
        same_core.setdefault(distinctive(title).lower(), []).append(number)
    for number, _proprietor, title, _status, _expiry in FIRMS:
        core = distinctive(title)
        words = core.split()
        twins = same_core[core.lower()]
        if len(twins) > 1:  # the same name but for its trade words: offered together, or told apart by them
            rows.append((" ".join(reversed(words)).lower(), "|".join(sorted(twins)), "order"))
            rows.append((title.lower(), number, "noise"))
            rows.append((title.replace("Peak", "Paek"), number, "typo"))
            continue
        # a typo in the longest distinctive word, lower case as typed on a phone
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        rows.append((" ".join(typo(w, rng) if i == longest else w for i, w in enumerate(words)).lower(), number, "typo"))
        # word order: the distinctive words turned around, with one trade word
        rows.append((" ".join(reversed(words)) + rng.choice([" manpower", " overseas", "", " international"]),
                     number, "order"))
        # noise words around the name
        rows.append((rng.choice(["M/s ", "m/s ", "Messrs ", ""]) + core
                     + rng.choice([" (Pvt) Ltd", " Overseas Employment Promoters", " (Private) Limited",
                                   " Travel and Tours", " Pvt. Ltd.", " OEP"]), number, "noise"))
    rows += [(q, n, "hard") for q, n in HARD]
    rows += [(q, n, "urdu") for q, n in URDU]
    rows += [(q, n, "licence") for q, n in LICENCES]
    rows += [(q, "none", "not_on_register") for q in NOT_ON_REGISTER]
    with open(HERE / "queries.tsv", "w", encoding="utf-8") as fh:
        fh.write("query\texpected\tcategory\n")
        for query, expected, category in rows:
            fh.write(f"{query}\t{expected}\t{category}\n")
    print(f"{len(rows)} queries")


if __name__ == "__main__":
    write()
