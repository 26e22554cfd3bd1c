from bot.dialogue.engine import Button, Reply
from bot.telegram.render import LIMIT, keyboard, messages, split_text, to_html


def test_short_text_is_one_message_and_escaped():
    out = messages(Reply("a <b>bold</b> & claim", ((Button("Yes", "oc:yes:q"), Button("No", "oc:no:q")),)))
    assert len(out) == 1
    text, markup = out[0]
    assert text == "a &lt;b&gt;bold&lt;/b&gt; &amp; claim"
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["oc:yes:q", "oc:no:q"]]


def test_long_text_splits_at_sentences_and_keyboard_goes_last():
    sentence = "This is one sentence about safe migration. "
    text = sentence * 300  # ~12,900 characters
    out = messages(Reply(text, ((Button("Menu", "act:menu"),),)))
    assert len(out) >= 4
    assert all(len(t) <= LIMIT for t, _ in out)
    assert all(t.endswith(".") for t, _ in out)
    assert all(m is None for _, m in out[:-1]) and out[-1][1] is not None
    assert " ".join(t for t, _ in out).split() == text.split()


def test_escaping_never_pushes_a_piece_over_the_limit():
    pieces = split_text("<&>" * 3000)
    assert all(len(to_html(p)) <= LIMIT for p in pieces) and "".join(pieces) == "<&>" * 3000


def test_urdu_is_split_between_words_not_inside():
    word = "پاسپورٹ"
    text = " ".join([word] * 1200)
    pieces = split_text(text)
    assert len(pieces) > 1 and all(set(p.split()) == {word} for p in pieces)


def test_too_long_callback_data_is_left_out():
    markup = keyboard(Reply("x", ((Button("ok", "topic:x"), Button("bad", "x" * 65)),)))
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["topic:x"]]
    assert keyboard(Reply("x")) is None
