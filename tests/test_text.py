from bot.text import MAX_NLU_CHARS, clean


def test_invisible_characters_and_diacritics_go_offsets_map_back():
    original = "my\u200b brother \u200fis in سعودي\u064e عرب"
    cleaned = clean(original)
    assert cleaned.text == "my brother is in سعودی عرب"
    start = cleaned.text.index("سعودی")
    s, e = cleaned.to_original(start, start + len("سعودی عرب"))
    assert original[s:e].replace("\u064e", "") == "سعودي عرب"


def test_leading_slash_never_reaches_the_nlu():
    assert clean("/emergency").text == "emergency"
    assert clean("  //start now").text == "start now"
    assert clean("/").text == ""


def test_long_text_is_cut_at_a_word_boundary():
    cleaned = clean("word " * 5000)
    assert cleaned.truncated and len(cleaned.text) <= MAX_NLU_CHARS and cleaned.text.endswith("word")


def test_presentation_forms_and_arabic_letters_fold_to_urdu():
    assert clean("ﻻ").text == "لا"
    assert clean("كيا").text == "کیا"
    assert clean("\t\n  ").text == ""
