"""👍 / 👎 under an answer to a typed question (issue 20): one small row of two buttons, pressed at most
once per answer. The answer's question waits in the state (data["fb"]) until the next answer replaces it
or a button is pressed; a 👎 gives it to the learning inbox (the Turn's `learn`: the service stores it,
redacted) and offers a person. Only the newest answer's buttons count: an older one's do nothing."""
from __future__ import annotations

UP, DOWN = "👍", "👎"
NO_FEEDBACK = {"greet", "goodbye", "thank", "affirm", "deny", "emergency", "ask_human"}


def offer(replies: list, state, topic: str, text: str, result, make_reply, make_button) -> None:
    """Adds the 👍 / 👎 row under the last reply (the answer) and remembers the question."""
    if topic in NO_FEEDBACK or not replies or not text.strip():
        return
    number = int(state.data.get("fb_n", 0)) + 1
    state.data["fb_n"] = number
    state.data["fb"] = {"n": number, "topic": topic, "text": text[:1000],
                        "intent": getattr(result, "intent", None),
                        "confidence": round(float(getattr(result, "confidence", 0.0) or 0.0), 4),
                        "ranking": [[i, round(float(c), 4)] for i, c in list(getattr(result, "ranking", None) or [])[:4]],
                        "entities": [dict(e) for e in getattr(result, "entities", None) or []
                                     if e.get("entity") in ("country", "amount")]}
    last = replies[-1]
    row = (make_button(UP, f"fb:up:{number}"), make_button(DOWN, f"fb:down:{number}"))
    replies[-1] = make_reply(last.text, tuple(last.buttons) + (row,), last.language, last.rtl)


def press(state, value: str) -> dict | None:
    """A 👍 or 👎 ("up:N" / "down:N"): the answer's record ({"vote", "topic", and for a 👎 the question})
    the first time, None for a second press or an older answer's button."""
    vote, _, number = value.partition(":")
    pending = state.data.get("fb")
    if vote not in ("up", "down") or not pending or str(pending.get("n")) != number or pending.get("voted"):
        return None
    record = {"vote": vote, "topic": pending.get("topic")}
    if vote == "down":
        record.update({k: pending.get(k) for k in ("text", "intent", "confidence", "ranking", "entities")})
    state.data["fb"] = {"n": pending["n"], "topic": pending.get("topic"), "voted": vote}  # the question is dropped
    return record
