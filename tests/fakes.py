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
