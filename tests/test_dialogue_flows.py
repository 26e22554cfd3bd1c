"""The dialogue's seams: the router finds flows by name in a registry (a flow added from here is reached
without touching the router), a stored flow the code no longer knows is dropped gracefully, the core
imports no framework, and no module of it grows past the size limit."""
import ast

from bot.config import ROOT
from bot.dialogue.flow import Flow
from bot.dialogue.replies import Button
from bot.dialogue.state import ConversationState
from tests.test_dialogue import languages, make, run  # noqa: F401  (languages is a fixture)

DIALOGUE = ROOT / "bot" / "dialogue"
MAX_LINES = 400


class Quiz(Flow):
    """A small flow that exists only in this test: /quiz opens it, "next" moves it on, its buttons close it."""
    name = "quiz"
    prefix = "qz"
    commands = ("quiz",)
    actions = ("quiz_continue",)
    continue_action = "quiz_continue"

    def __init__(self, kit):
        super().__init__(kit)
        self.typed: list[str] = []

    def command(self, out, content, state, text):
        state.flow = {"name": self.name, "step": 1}
        self.resume(out, content, state)
        return out.turn()

    def action(self, out, content, state, action):
        self.resume(out, content, state)
        return out.turn()

    def action_label(self, out, action):
        return "Back to the quiz"

    def resume(self, out, content, state, lead=""):
        out.say(f"{lead}Quiz question {state.flow['step']}", [Button("A", "qz:a"), Button("B", "qz:b")])

    def pause(self, out):
        out.say("The quiz is paused.", [self.kit.action_button(out, "quiz_continue")])

    def text(self, out, content, state, text, result):
        self.typed.append(text)
        if text == "next":
            state.flow["step"] += 1
            self.resume(out, content, state)
            return out.turn(result, topic="quiz")
        return None  # anything else: the free-text policy answers it

    def button(self, out, content, state, value):
        state.flow = None
        out.say(f"Quiz answer {value.upper()}")
        return out.turn(topic="quiz", case={"quiz": value})


def payloads(turn) -> list[str]:
    return [b.payload for reply in turn.replies for row in reply.buttons for b in row]


def test_a_flow_registered_by_name_is_reached_by_command_text_button_and_action(languages):  # noqa: F811
    dialogue, nlu, _store = make(languages)
    quiz = dialogue.dialogue.flows.register(Quiz(dialogue.dialogue.kit))
    opened = run(dialogue.handle_text("q1", "/quiz"))
    assert opened.replies[-1].text == "Quiz question 1"
    assert dialogue.states.get("q1").flow == {"name": "quiz", "step": 1}

    moved = run(dialogue.handle_text("q1", "next"))  # typed text goes to the open flow, by its name
    assert quiz.typed == ["next"] and moved.topic == "quiz"
    assert moved.replies[-1].text == "Quiz question 2"

    # a question aside: the flow leaves it to the policy, which answers it with a button back to the flow
    question = nlu.says("what are the warning signs of a fake agent", "warning_signs")
    aside = run(dialogue.handle_text("q1", question))
    assert quiz.typed[-1] == question and aside.topic == "warning_signs"
    assert "act:quiz_continue" in payloads(aside)
    assert any(b.label == "Back to the quiz" for r in aside.replies for row in r.buttons for b in row)
    back = run(dialogue.handle_button("q1", "act:quiz_continue"))
    assert back.replies[-1].text == "Quiz question 2"

    # an emergency interrupts it: the emergency answer, then the flow's own "paused" line
    urgent = run(dialogue.handle_text("q1", nlu.says("help me they locked me in", "emergency")))
    assert urgent.escalation == "urgent"
    assert urgent.replies[-1].text == "The quiz is paused." and "act:quiz_continue" in payloads(urgent)

    answered = run(dialogue.handle_button("q1", "qz:b"))
    assert answered.replies[-1].text == "Quiz answer B" and answered.case == {"quiz": "b"}
    assert dialogue.states.get("q1").flow is None


def test_a_flow_name_must_be_unique_and_a_button_prefix_free(languages):  # noqa: F811
    dialogue, _nlu, _store = make(languages)
    kit = dialogue.dialogue.kit
    dialogue.dialogue.flows.register(Quiz(kit))
    for bad in (Quiz(kit), type("Clash", (Quiz,), {"name": "clash", "prefix": "oc"})(kit),
                type("Router", (Quiz,), {"name": "router", "prefix": "act"})(kit)):
        try:
            dialogue.dialogue.flows.register(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad.name} was registered")


def test_a_stored_flow_that_is_no_longer_registered_is_dropped_gracefully(languages):  # noqa: F811
    dialogue, nlu, _store = make(languages)

    def stale(user: str) -> None:
        dialogue.states[user] = ConversationState(user, language="en", flow={"name": "retired_flow", "step": 3})

    stale("s1")  # an unclear message: the fallback, with the menu button, and no flow any more
    turn = run(dialogue.handle_text("s1", "zzq qqz"))
    assert "act:menu" in payloads(turn)
    assert dialogue.states.get("s1").flow is None

    stale("s2")  # a question: answered as if no flow were open (no "continue" button to a flow that is gone)
    turn = run(dialogue.handle_text("s2", nlu.says("what are the warning signs of a fake agent", "warning_signs")))
    assert turn.topic == "warning_signs" and not any(p.endswith("_continue") for p in payloads(turn))
    assert dialogue.states.get("s2").flow is None

    stale("s3")  # a button of the gone flow: the menu
    turn = run(dialogue.handle_button("s3", "rt:next"))
    assert "act:offer_check" in payloads(turn) and "act:report" in payloads(turn)
    assert dialogue.states.get("s3").flow is None

    stale("s4")  # a "continue" button of a flow that is not the open one: the menu
    turn = run(dialogue.handle_button("s4", "act:offer_continue"))
    assert "act:offer_check" in payloads(turn) and dialogue.states.get("s4").flow is None


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_the_dialogue_core_imports_no_framework_and_no_module_is_too_long():
    files = sorted(DIALOGUE.glob("*.py"))
    assert len(files) >= 10
    frameworks = {"telegram", "httpx", "sqlalchemy", "starlette", "rasa", "aiohttp", "requests", "psycopg", "alembic"}
    for path in files:
        assert not _imports(path) & frameworks, path.name
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{path.name} has {lines} lines (limit {MAX_LINES}): split it along a seam"
