"""The getUpdates connection: python-telegram-bot's own HTTPXRequest, keeping the updates of the last
answer as the server sent them."""
from __future__ import annotations

from telegram.request import HTTPXRequest

from ..text import valid_utf8_tree


class PollingRequest(HTTPXRequest):
    """The inbox stores the updates as received rather than `Update.to_dict()` of python-telegram-bot's
    objects (which cost more than the insert itself), all of one answer in one transaction.
    python-telegram-bot queues all the updates of one answer before it asks for the next (whose offset
    confirms them to Telegram). `parse_json_payload` is BaseRequest's documented hook for the decoding
    of every answer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_updates: dict[int, dict] = {}

    def parse_json_payload(self, payload: bytes) -> dict:
        data = super().parse_json_payload(payload)  # invalid UTF-8 bytes become U+FFFD there
        if b"\\ud" in payload or b"\\uD" in payload:  # an escaped surrogate: a lone one would stay
            data = valid_utf8_tree(data)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            self.raw_updates = {u["update_id"]: u for u in result
                                if isinstance(u, dict) and isinstance(u.get("update_id"), int)}
        return data

    def take_answer(self, update_id: int) -> dict[int, dict] | None:
        """The updates of the answer that brought this one, as received, by id; once (None after, or
        for an update that did not come through this connection, e.g. a webhook's)."""
        if update_id not in self.raw_updates:
            return None
        answer, self.raw_updates = self.raw_updates, {}
        return answer
