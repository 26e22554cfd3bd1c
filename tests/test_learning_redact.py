"""Redaction before anything reaches the learning inbox (bot/learning/redact.py): a table of what must be
removed and what must stay, in English, Urdu and Roman Urdu."""
import pytest

from bot.learning.redact import redact

# (text, names known to the channel, pieces that must be gone, pieces that must stay)
MUST = [
    # English
    ("call me on 0300-1234567 please", (), ["0300-1234567"], ["call me on", "please"]),
    ("my number is +92 300 1234567", (), ["+92 300 1234567", "1234567"], ["my number is"]),
    ("uncle in dubai +971 50 123 4567", (), ["123 4567", "+971"], ["dubai"]),
    ("whatsapp 00966501234567 saudi agent", (), ["00966501234567"], ["saudi agent"]),
    ("office landline (051) 9201234 islamabad", (), ["9201234"], ["islamabad"]),
    ("my CNIC is 35202-1234567-1", (), ["35202-1234567-1"], ["my CNIC is"]),
    ("cnic 3520212345671 agent kept", (), ["3520212345671"], ["agent kept"]),
    ("mail me at ali.khan@gmail.com", (), ["ali.khan@gmail.com", "gmail"], ["mail me at"]),
    ("agent has my passport AB1234567", (), ["AB1234567"], ["agent has my passport"]),
    ("my name is Asif Ali and the agent took money", (), ["Asif", "Ali"], ["the agent took money"]),
    ("Mr Khan took 50,000 rupees for Italy", (), ["Khan", "50,000 rupees"], ["Italy", "took"]),
    ("Bilal bhai from Skardu offers Qatar job", (), ["Bilal"], ["bhai", "Skardu", "Qatar"]),
    ("I am Zainab, is this job real", ("Zainab", "Bibi"), ["Zainab"], ["is this job real"]),
    ("ask Hamid from your team", ("Hamid Raza",), ["Hamid"], ["ask", "from your team"]),
    # Roman Urdu
    ("mera naam Asif hai, agent ko 5 lakh diye", (), ["Asif", "5 lakh"], ["mera naam", "agent ko", "diye"]),
    ("Bilal bhai ko 2 lakh diye the Saudia ke liye", (), ["Bilal", "2 lakh"], ["Saudia", "diye"]),
    ("mera number 03001234567 hai call karo", (), ["03001234567"], ["mera number", "call karo"]),
    ("shanakhti card 35202-1234567-1 agent ke paas hai", (), ["35202-1234567-1"], ["agent ke paas hai"]),
    ("passport no AK7654321 wapis nahi kar raha", (), ["AK7654321"], ["wapis nahi kar raha"]),
    # Urdu
    ("میرا نام اسلم ہے اور ایجنٹ نے پیسے لیے", (), ["اسلم"], ["میرا نام", "ایجنٹ"]),
    ("میرا نمبر ۰۳۰۰۱۲۳۴۵۶۷ ہے", (), ["۰۳۰۰۱۲۳۴۵۶۷"], ["میرا نمبر"]),
    ("شناختی کارڈ ۳۵۲۰۲-۱۲۳۴۵۶۷-۱ ایجنٹ کے پاس ہے", (), ["۳۵۲۰۲-۱۲۳۴۵۶۷-۱"], ["ایجنٹ کے پاس ہے"]),
    ("اسلم صاحب کو ۲ لاکھ دیے سعودی عرب کے لیے", (), ["اسلم", "۲ لاکھ"], ["سعودی عرب", "دیے"]),
]

KEEP = [
    # nothing personal: the text comes back unchanged
    "FIA helpline 111-345-786 or 1991, which one",
    "In 2023 I paid 2 lakh to an agent for Dubai",
    "agent wants 8 lakh for Saudi visa, is that ok",
    "is licence 0848/LHR valid",
    "agent bhai ne 3 lakh liye, Italy bhejega",
    "Rs 10,000,000 for Canada? too much",
    "mere bhai ko Libya mein band kar diya, 20 lakh maang rahe hain",
    "call 15 or 1122 in an emergency",
    "I am 24 years old, can I go to Germany",
    "toll free 0800-12345",
    "۲ لاکھ روپے ایجنٹ مانگ رہا ہے، دبئی کا ویزا",
    "میرے بھائی کو لیبیا میں بند کر دیا ہے",
    "Pakistan se Malaysia jana hai study visa pe",
]


@pytest.mark.parametrize("text,names,gone,stay", MUST)
def test_personal_data_is_removed(text, names, gone, stay):
    out = redact(text, names)
    for piece in gone:
        assert piece not in out, (text, out)
    for piece in stay:
        assert piece in out, (text, out)
    assert "<" in out  # a placeholder says something was there


@pytest.mark.parametrize("text", KEEP)
def test_what_is_not_personal_stays(text):
    assert redact(text, ("Zainab Bibi", "Hamid Raza")) == text


def test_placeholders_never_hold_brackets_rasa_reads():
    out = redact("my name is Asif, 0300-1234567, AB1234567, a@b.pk, 35202-1234567-1")
    assert not any(ch in out for ch in "[]{}")


def test_short_name_pieces_are_not_removed_everywhere():
    # a two-letter name piece would eat words; pieces under three letters are skipped
    assert redact("is UK visa ok", ("Al Uk",)) == "is UK visa ok"
