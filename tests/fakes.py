"""A fake NLU for fast tests of the domain code: keyword rules instead of a model."""
from bot.understanding import NLUResult


class KeywordNLU:
    def __init__(self, rules: dict[str, str], entities: dict[str, list[dict]] | None = None):
        self.rules = rules
        self.entities = entities or {}
        self.seen: list[str] = []

    async def parse(self, text: str) -> NLUResult:
        self.seen.append(text)
        for keyword, intent in self.rules.items():
            if keyword in text.lower():
                ranking = [(intent, 0.8), ("emergency" if intent != "emergency" else "greet", 0.05)]
                return NLUResult(intent, 0.8, ranking, self.entities.get(keyword, []))
        return NLUResult("out_of_scope", 0.3, [("out_of_scope", 0.3), ("greet", 0.2)], [], fallback=True)


class Conversations:
    """The dialogue core with each user's state kept in a dict, for the dialogue's own tests: a turn
    loads the state, runs, and stores it (an erased state is deleted), as the conversation service
    does with the database (hotline/service.py; tested in test_hotline.py and test_turn_order.py)."""

    def __init__(self, dialogue):
        self.dialogue = dialogue
        self.states = _States()

    def __getattr__(self, name):
        return getattr(self.dialogue, name)

    async def handle_text(self, user: str, text: str, case=None):
        return await self._turn(user, lambda state: self.dialogue.process_text(state, text, case))

    async def handle_button(self, user: str, payload: str, case=None):
        return await self._turn(user, lambda state: self.dialogue.process_button(state, payload, case))

    async def _turn(self, user: str, process):
        state = self.states.get(user)
        turn = await process(state)
        if state.data.get("erased"):
            self.states.pop(user, None)
        else:
            self.states[user] = state
        return turn


class _States(dict):
    def get(self, user):
        import copy

        from bot.dialogue.state import ConversationState

        state = super().get(user)
        return copy.deepcopy(state) if state is not None else ConversationState(user)

    def save(self, state):
        import copy

        self[state.user] = copy.deepcopy(state)
