"""A lock store for an NLU-only Rasa server.

Rasa 3.6 runs more than one Sanic worker only when the lock store is not its in-memory one. This server
only answers /model/parse, which takes no conversation lock, so Rasa's in-memory store is fine in each
worker: this subclass only tells Rasa so. Used through nlu/endpoints.yml.
"""
from rasa.core.lock_store import InMemoryLockStore


class NLUOnlyLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config=None, **kwargs):
        super().__init__()
