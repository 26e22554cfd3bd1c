"""Guided flows and the registry the router consults.

A flow is a small state machine kept in ConversationState.flow as a plain dict, {"name": NAME, ...}. The
router (engine.py) and the free-text policy (policy.py) find the open flow by that name in the registry:

    typed text while the flow is open   -> flow.text (None: not the flow's business; the policy goes on)
    a button "<prefix>:<value>"         -> flow.button
    a command "/<name>" in `commands`   -> flow.command
    a button "act:<action>" in `actions`-> flow.action
    a question aside or "continue"      -> flow.resume (the current step asked again)
    an emergency interrupts it          -> flow.pause (a line and a button back)

Adding a flow is a new module with a Flow subclass and one line in Dialogue's list (engine.py). A
stored state that names a flow no longer registered (a flow renamed or removed) is dropped by the
router: the message is handled as if no flow were open.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .content import Content
from .replies import Out, Turn
from .state import ConversationState

if TYPE_CHECKING:
    from ..understanding import Understanding
    from .kit import Kit


class Flow:
    name: str = ""
    prefix: str | None = None  # its buttons' payloads start with "<prefix>:"
    commands: tuple[str, ...] = ()  # the commands that open it
    actions: tuple[str, ...] = ()  # the "act:<action>" buttons it answers
    continue_action: str | None = None  # the action button back to it, under an answer given aside
    danger_question: bool = True  # False: an ambiguous danger signal typed inside it is not asked about

    def __init__(self, kit: "Kit"):
        self.kit = kit

    def is_open(self, state: ConversationState) -> bool:
        return bool(state.flow) and state.flow.get("name") == self.name

    def text(self, out: Out, content: Content, state: ConversationState, text: str,
             result: "Understanding") -> Turn | None:
        """Typed text while this flow is open. None: the flow leaves it to the free-text policy."""
        return None

    def button(self, out: Out, content: Content, state: ConversationState, value: str) -> Turn:
        self.kit.menu(out, content)
        return out.turn()

    def command(self, out: Out, content: Content, state: ConversationState, text: str) -> Turn:
        return out.turn()

    def action(self, out: Out, content: Content, state: ConversationState, action: str) -> Turn:
        self.kit.menu(out, content)
        return out.turn()

    def action_label(self, out: Out, action: str) -> str:
        """The label of the button of one of its `actions`, in the user's language."""
        return action

    def resume(self, out: Out, content: Content, state: ConversationState, lead: str = "") -> None:
        """The flow's current step asked again (after an aside)."""

    def pause(self, out: Out) -> None:
        """Said under the emergency answer when an urgent message interrupts the flow."""

    def topic_action(self, topic_id: str) -> str | None:
        """An action button this flow adds under the answer of a topic ("Check an agent" under verify_agent)."""
        return None


class FlowRegistry:
    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}

    def register(self, flow: Flow) -> Flow:
        if not flow.name or flow.name in self._flows:
            raise ValueError(f"a flow needs a unique name: {flow.name!r}")
        taken = {f.prefix for f in self._flows.values() if f.prefix}
        if flow.prefix and flow.prefix in taken | {"lang", "topic", "more", "act", "del"}:
            raise ValueError(f"button prefix {flow.prefix!r} is taken")
        self._flows[flow.name] = flow
        return flow

    def __getitem__(self, name: str) -> Flow:
        return self._flows[name]

    def get(self, name: str | None) -> Flow | None:
        return self._flows.get(name or "")

    def __iter__(self):
        return iter(self._flows.values())

    def of(self, state: ConversationState) -> Flow | None:
        """The open flow of the state, if it is a registered one."""
        return self._flows.get((state.flow or {}).get("name") or "")

    def forget_unknown(self, state: ConversationState) -> None:
        """A stored flow this version does not know is dropped (the message is handled without it)."""
        if state.flow is not None and self.of(state) is None:
            state.flow = None

    def by_prefix(self, prefix: str) -> Flow | None:
        return next((f for f in self._flows.values() if f.prefix == prefix), None)

    def by_command(self, name: str) -> Flow | None:
        return next((f for f in self._flows.values() if name in f.commands), None)

    def by_action(self, action: str) -> Flow | None:
        return next((f for f in self._flows.values() if action in f.actions), None)
