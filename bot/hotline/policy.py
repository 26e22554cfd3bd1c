"""What escalates with what priority and the one-line summary staff see. Pure."""
from __future__ import annotations

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
ALERTED = ("urgent", "high")  # these post an alert to the staff group
REASON_LABEL = {
    "emergency": "Emergency",
    "safety_net": "Emergency (danger words)",
    "report": "Report form",
    "human": "Asked for a person",
    "offer_check": "High-risk offer check",
    "fallback": "Not understood twice",
}
# the first-response targets the console measures against
RESPONSE_TARGET_MINUTES = {"urgent": 5, "high": 30, "normal": 240}


def merge_entities(into: dict, entities) -> dict:
    """Entity values gathered over a conversation: {"country": ["Libya"], "amount": ["500000 PKR"]}."""
    out = {k: list(v) for k, v in (into or {}).items()}
    for entity in entities or ():
        name = entity.get("entity")
        value = entity.get("value")
        if not name or value in (None, ""):
            continue
        if name == "amount" and entity.get("number") is not None:
            number = entity["number"]
            value = f"{number:,.0f} {entity.get('currency') or ''}".strip()
        values = out.setdefault(name, [])
        if str(value) in values:  # named again: it moves to the end (the most recent last)
            values.remove(str(value))
        values.append(str(value))
    return out


def summary(reason: str, language: str | None, entities: dict, offer_check: dict | None = None,
            fired_by: str | None = None) -> str:
    """One line for the queue and the alert: no names, numbers or words of the user, only what kind of
    case it is, the language, the countries named, an offer check's level and, for an urgent case, what
    fired: the kind and number of danger phrases and the classifier's probability, never the phrases (they
    can repeat the user's words; the console's case page shows them)."""
    parts = [REASON_LABEL.get(reason, reason), language or "?"]
    countries = list(reversed(entities.get("country", [])))[:3]  # the most recent first
    if countries:
        parts.append(", ".join(countries))
    if "female counsellor" in entities.get("request", []):
        parts.append("asks for a woman counsellor")
    if offer_check and offer_check.get("level"):
        parts.append(f"offer check: {offer_check.get('kind', '')} {offer_check['level']}".replace("  ", " "))
    if fired_by:
        parts.append(f"{FIRED}{fired_by}")
    return " · ".join(parts)[:200]


FIRED = "fired: "


def fired_of(summary_line: str) -> str | None:
    """The `fired: ...` part of a summary line (kept when the line is written again)."""
    at = (summary_line or "").find(" · " + FIRED)
    return summary_line[at + len(" · " + FIRED):] if at >= 0 else None
