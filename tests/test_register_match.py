"""The register's matcher on the labelled set tests/data/register/queries.tsv (typos, word order, noise
words, Urdu script, licence-number variants, names not on the register; made by make_queries.py against
the fixtures): precision of the answer presented as the agency and recall of the top agency offered."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.register.match import Register, name_key
from bot.register.parse import parse_files
from bot.register.quality import evaluate, read
from bot.register.translit import skeleton, to_latin

DATA = Path(__file__).parent / "data" / "register"


@pytest.fixture(scope="module")
def register() -> Register:
    parsed = parse_files([(p.name, p.read_bytes()) for p in sorted(DATA.glob("list-of-oeps-page*.html"))])
    return Register(parsed.agencies, date(2026, 11, 30), today=date(2026, 12, 5))


def test_labelled_set_precision_and_recall(register):
    rows = read(DATA / "queries.tsv")
    assert len(rows) >= 200
    assert {c for _q, _e, c in rows} == {"typo", "order", "noise", "hard", "urdu", "licence", "not_on_register"}
    scores = evaluate(register, rows)
    print(f"\nregister matcher: {scores['queries']} queries, answered {scores['answered']}, "
          f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
          f"top precision {scores['top_precision']:.3f}; wrong by category {scores['wrong']}")
    for miss in scores["misses"]:
        print("  miss:", miss)
    assert scores["precision"] >= 0.98
    assert scores["recall"] >= 0.9
    for category in ("typo", "order", "noise", "urdu", "licence"):  # each kind of query, not only the total
        assert scores["wrong"].get(category, 0) <= 0.1 * scores["categories"][category], category


def test_noise_is_stripped_from_names():
    assert name_key("M/s Example Hunza Peak Manpower (Private) Limited") == "example hunza peak"
    assert name_key("Demo Sea Breeze Travel & Tours (Pvt.) Ltd.") == "demo sea breeze"
    assert name_key("Sample Overseas Employment Promoters") == "sample"
    assert name_key("is sample crescent star licensed?", query=True) == "sample crescent star"
    assert name_key("Overseas Employment Promoters") == "overseas employment promoters"  # noise only: kept


def test_urdu_names_meet_their_latin_form():
    assert skeleton(to_latin("رحمان برادرز")) == skeleton("Rehman Brothers")
    assert skeleton(to_latin("ہنزہ")) == skeleton("Hunza")
    assert skeleton(to_latin("قراقرم")) == skeleton("Karakoram")
    assert to_latin("میسرز ایگزامپل مین پاور پرائیویٹ لمیٹڈ").split() == ["aygzampl"]


def test_licence_and_number_lookups(register):
    found = register.lookup("OEPL No. 0017/RWP")
    assert found.kind == "licence" and found.entries[0].agency.title == "M/s Example Hunza Peak Manpower Services"
    assert register.lookup("(OEPL No. 9999/RWP)").kind == "none"
    same_number = register.lookup("0008")
    assert same_number.kind == "choose" and {e.agency.licence for e in same_number.entries} == {"0008/RWP", "0008/LHR"}


def test_a_weak_match_is_never_the_agency(register):
    for query in ("Peshawar Travels", "Hunza Peak Gold Travels", "Karakoram Gateway Express", "Example"):
        assert register.lookup(query).kind in ("none", "choose"), query
    twins = register.lookup("hunza peak example")  # the same name but for "Manpower" / "Travel & Tours"
    assert twins.kind == "choose" and {e.agency.licence for e in twins.entries} == {"0017/RWP", "0503/PSH"}
    told_apart = register.lookup("Example Hunza Peak Travel and Tours")
    assert told_apart.kind == "name" and told_apart.entries[0].agency.licence == "0503/PSH"


def test_a_valid_licence_past_its_expiry_date_is_expired(register):
    assert register.by_licence["0031/KHI"].status == "expired"  # so listed
    assert register.by_licence["0090/KHI"].status == "valid"  # "Active", expires 2026-12-31
    later = Register([e.agency for e in register.entries], date(2026, 11, 30), today=date(2027, 1, 1))
    assert later.by_licence["0090/KHI"].status == "expired"


def test_heldout_queries_written_after_the_tuning(register):
    """tests/data/register/heldout.tsv: 40 queries written after the matcher's thresholds were set on
    queries.tsv, scored once and never tuned on (keep it so: a change made to pass it spoils it)."""
    scores = evaluate(register, read(DATA / "heldout.tsv"))
    print(f"\nheld-out: {scores['queries']} queries, precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
          f"top precision {scores['top_precision']:.3f}")
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.9
