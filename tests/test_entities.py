import pytest

from bot.config import Settings
from bot.nlu.entities import countries_yaml, dedupe, normalize_amount, read_countries


@pytest.mark.parametrize("value,number,currency", [
    ("5 lakh rupees", 500000, "PKR"), ("Rs 15,000", 15000, "PKR"), ("3000 AED", 3000, "AED"),
    ("$2000", 2000, "USD"), ("پانچ لاکھ روپے", 500000, "PKR"), ("۲ لاکھ", 200000, "PKR"),
    ("50 hazar", 50000, "PKR"), ("1500 riyal", 1500, "SAR"), ("2.5 lakh", 250000, "PKR"), ("20k", 20000, None),
    ("ڈیڑھ لاکھ", 150000, "PKR"), ("3000 euros", 3000, "EUR"),
])
def test_normalize_amount(value, number, currency):
    assert normalize_amount(value) == {"number": number, "currency": currency}


def test_dedupe_keeps_the_longest_span():
    ents = [{"entity": "amount", "start": 3, "end": 9}, {"entity": "amount", "start": 0, "end": 9},
            {"entity": "country", "start": 3, "end": 9}]
    assert dedupe(ents) == [{"entity": "amount", "start": 0, "end": 9}, {"entity": "country", "start": 3, "end": 9}]


def test_generated_country_table_is_up_to_date_and_longest_first():
    settings = Settings.from_env()
    source = read_countries(settings.nlu_project / "entities" / "countries.txt")
    generated = (settings.nlu_project / "data" / "entities" / "countries.yml").read_text(encoding="utf-8")
    assert generated == countries_yaml(source), "run `safesafar nlu train` to regenerate countries.yml"
    lookup = generated.split("- synonym:")[0]
    assert lookup.index("- saudi arabia") < lookup.index("- saudi\n")
    assert "- synonym: Saudi Arabia" in generated and "    - سعودی عرب" in generated
