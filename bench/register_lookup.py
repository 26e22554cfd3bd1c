"""Lookup latency of the OEP register's matcher on a generated register of 5,000 agencies (fictitious
names made from word lists, seeded), and the time to build the index.

    .venv/bin/python bench/register_lookup.py [--agencies 5000] [--queries 2000]

Queries: a quarter licence numbers (several spellings), a quarter names with a typo, a quarter names in
another order with noise words, an eighth Urdu script, an eighth names that are not on the register.
Prints p50, p95, p99 and max per lookup in milliseconds (wall clock), per kind and overall (target: p95
<= 20 ms), and the CPU time per lookup (what the lookup costs when the machine is busy with other work).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.register.match import Register  # noqa: E402
from bot.register.parse import Agency  # noqa: E402

WORDS = ("Hunza Karakoram Indus Chenab Ravi Jhelum Swat Khyber Bolan Margalla Shandur Deosai Baltoro Passu Khunjerab "
         "Rakaposhi Nanga Parbat Ziarat Mehran Sindh Punjab Crescent Star Moon Falcon Eagle Shaheen Golden Silver Green "
         "Royal Pearl Gate Bridge Valley Peak Garden Heights Plains River Lake Delta Sea Breeze Noor Madina Barkat "
         "Rehman Sadiq Faisal Jinnah Iqbal Quaid Tariq Usman Bilal Hamza Zain Ali Al-Hamd Al-Noor Al-Falah Taj "
         "Sultan Shah Nawaz Aziz Karim Rahim Saeed Qadir Ahmed Mughal Sufi Data Darbar Attock Taxila Multan Sialkot "
         "Lahore Quetta Gilgit Skardu Chitral Mardan Bannu Kohat Swabi Murree Abbottabad Hazara Frontier Capital "
         "Metro City Port Harbour Horizon Vision Unity Trust Faith Hope Dream Smart Fast Best Prime Global United").split()
TRADE = ("Overseas Employment Promoters", "Manpower Services", "International", "Travel & Tours", "Manpower",
         "(Pvt) Ltd", "Overseas", "Recruiting Agency", "Enterprises", "Manpower (Private) Limited")
REGIONS = ("RWP", "LHR", "KHI", "PSH", "QTA", "MALAKAND", "MULTAN", "SIALKOT")
URDU = {"Hunza": "ہنزہ", "Karakoram": "قراقرم", "Indus": "انڈس", "Chenab": "چناب", "Swat": "سوات", "Khyber": "خیبر",
        "Falcon": "فالکن", "Eagle": "ایگل", "Shaheen": "شاہین", "Golden": "گولڈن", "Star": "سٹار", "Noor": "نور",
        "Madina": "مدینہ", "Rehman": "رحمان", "Sadiq": "صادق", "Faisal": "فیصل", "Jinnah": "جناح", "Royal": "رائل",
        "Pearl": "پرل", "Valley": "ویلی", "Peak": "پیک", "Garden": "گارڈن", "River": "ریور", "Lake": "لیک",
        "Sultan": "سلطان", "Taj": "تاج", "Green": "گرین", "Moon": "مون", "Crescent": "کریسنٹ", "Gate": "گیٹ"}


def generate(n: int, rng: random.Random) -> list[Agency]:
    seen, agencies = set(), []
    while len(agencies) < n:
        core = " ".join(rng.sample(WORDS, rng.choice((2, 2, 3))))
        if core in seen:
            continue
        seen.add(core)
        number = f"{len(agencies) + 1:04d}/{rng.choice(REGIONS)}"
        status = rng.choices(("valid", "expired", "cancelled", "suspended"), (70, 15, 10, 5))[0]
        agencies.append(Agency(licence=number, title=f"{core} {rng.choice(TRADE)}", status=status,
                               expiry=date(2027, rng.randint(1, 12), rng.randint(1, 28))))
    return agencies


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1:] if rng.random() < 0.5 else word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(agencies: list[Agency], count: int, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for i in range(count):
        agency = rng.choice(agencies)
        words = agency.title.split()[:3]
        kind = ("licence", "licence", "typo", "typo", "order", "order", "urdu", "absent")[i % 8]
        if kind == "licence":
            digits, region = agency.licence.split("/")
            text = rng.choice((f"OEPL No. {digits}/{region}", f"{int(digits)} / {region.lower()}", f"{digits}./{region}"))
        elif kind == "typo":
            text = " ".join(typo(w, rng) if j == 0 else w for j, w in enumerate(words)).lower()
        elif kind == "order":
            text = "M/s " + " ".join(reversed(words)) + " Pvt Ltd"
        elif kind == "urdu":
            text = " ".join(URDU.get(w, w) for w in words)
        else:
            text = " ".join(rng.sample(WORDS, 2)) + " Visa Consultants"
        out.append((kind, text))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agencies", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(5000)
    agencies = generate(args.agencies, rng)
    started = time.perf_counter()
    register = Register(agencies, date(2026, 12, 1), today=date(2026, 12, 5))
    build_ms = (time.perf_counter() - started) * 1000
    todo = queries(agencies, args.queries, rng)
    for _kind, text in todo[:50]:  # warm-up
        register.lookup(text)
    times: dict[str, list[float]] = {}
    cpu: list[float] = []
    outcomes: dict[str, dict[str, int]] = {}
    for kind, text in todo:
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = register.lookup(text)
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append((time.thread_time() - started_cpu) * 1000)
        times.setdefault(kind, []).append(elapsed)
        outcomes.setdefault(kind, {}).setdefault(result.kind, 0)
        outcomes[kind][result.kind] += 1
    every = [t for values in times.values() for t in values]
    print(f"register of {len(register)} agencies: index built in {build_ms:.0f} ms; {len(every)} lookups")
    print(f"{'kind':8} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  outcomes")
    for kind, values in list(times.items()) + [("all", every)]:
        print(f"{kind:8} {len(values):5d} {statistics.median(values):7.2f} {percentile(values, 95):7.2f} "
              f"{percentile(values, 99):7.2f} {max(values):7.2f}  {outcomes.get(kind, '')}")
    p95 = percentile(every, 95)
    print(f"CPU per lookup (thread time, less sensitive to other load on the machine): p50 "
          f"{statistics.median(cpu):.2f} ms, p95 {percentile(cpu, 95):.2f} ms")
    print(f"lookup p95 {p95:.2f} ms wall clock (target <= 20 ms): {'ok' if p95 <= 20 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
