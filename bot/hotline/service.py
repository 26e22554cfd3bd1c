"""The conversation service: what every channel calls with what arrived. It runs the dialogue turn on
the stored state, decides what reaches the hotline, and stores it all in one transaction (the state,
the messages, the case, the replies and the staff alert as outbox rows) before anything is sent.

    load (state, open case; a processed update is dropped) -> dialogue turn -> escalation policy
    -> commit (case number known here) -> the caller delivers the returned outbox rows

A user's turns are serialised and kept in order across processes by the store, not by a lock in this
process: a turn waits while an earlier update of the same user (by update id, in the inbox) is not done,
and stores the state only over the version it loaded. A turn that loses either race (TurnConflict) is
loaded and run again, so it applies to the state the earlier turn left.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..dialogue.engine import Button, CaseView, Dialogue, Reply, Turn, merge_replies
from ..i18n import I18n
from ..storage.executor import run_db
from ..storage.hotline_store import HotlineStore, Inbound, OutboxItem, TurnConflict
from .cases import CaseOutcome, CaseText, Escalation
from .policy import RESPONSE_TARGET_MINUTES
from .turn import TurnRecord, commit_turn, load_turn


def N_(message: str) -> str:
    return message


MEDIA_KINDS = {"voice": N_("voice message"), "audio": N_("audio file"), "video_note": N_("video message"),
               "video": N_("video"), "photo": N_("photo"), "sticker": N_("sticker"), "animation": N_("GIF"),
               "document": N_("document"), "location": N_("location"), "venue": N_("location"),
               "contact": N_("contact"), "poll": N_("poll"), "message": N_("message")}


@dataclass
class Handled:
    replies: list[Reply] = field(default_factory=list)  # everything said this turn, in order
    outbox: list[OutboxItem] = field(default_factory=list)  # to deliver now (replies, then the staff alert)
    case: CaseOutcome | None = None
    duplicate: bool = False


class ConversationService:
    def __init__(self, dialogue: Dialogue, store: HotlineStore, i18n: I18n, durable_replies: bool = True,
                 claim_as: str | None = None, lease_seconds: float = 60.0, case_text: CaseText | None = None,
                 training=None):
        """claim_as: the outbox worker that delivers a turn's rows right after the commit (they are
        written already claimed by it, so that no other worker sends them too). case_text: the staff
        alert's rendering (default: Telegram HTML, hotline/turn.py)."""
        self.dialogue, self.store, self.i18n = dialogue, store, i18n
        self.case_text = case_text
        self.training = training  # learning.training.TrainingIndex: messages in it stay out of the learning inbox
        self.durable_replies = durable_replies
        self.claim_as, self.lease_seconds = claim_as, lease_seconds
        self._turn_done: dict[str, asyncio.Event] = {}  # user key -> set when a turn of the user is stored

    MAX_CONFLICTS = 50  # a turn run again this often in a row: something is wrong, fail it (retried at restart)

    async def handle(self, inbound: Inbound, preferred_language: str | None = None,
                     force_language: str | None = None) -> Handled:
        """preferred_language: a hint (the Telegram app's language) used until the user writes or picks
        one; force_language: the user picked it (a deep link such as start=ur)."""
        delay, conflicts = 0.002, 0
        while True:
            loaded = await run_db(self.store.engine, load_turn, self.store, inbound)
            if loaded.done:
                return Handled(duplicate=True)
            if not loaded.waiting:
                try:
                    handled = await self._turn(inbound, loaded, preferred_language, force_language)
                except TurnConflict:
                    conflicts += 1
                    if conflicts >= self.MAX_CONFLICTS:
                        raise
                else:
                    event = self._turn_done.pop(inbound.user_key, None)
                    if event is not None:
                        event.set()
                    return handled
            # an earlier update of this user is in another turn (here or in another process): woken when
            # a turn of this process stores, else polled with a growing delay
            await self._wait_for_turn(inbound.user_key, delay)
            delay = min(delay * 2, 0.1)

    async def _wait_for_turn(self, user_key: str, timeout: float) -> None:
        event = self._turn_done.setdefault(user_key, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            if self._turn_done.get(user_key) is event:
                del self._turn_done[user_key]

    async def _turn(self, inbound: Inbound, loaded, preferred_language: str | None,
                    force_language: str | None) -> Handled:
        state = loaded.state
        if force_language:
            state.language, state.language_chosen = force_language, True
        elif state.language is None and preferred_language:
            state.language = preferred_language
        open_case = loaded.case
        case = (CaseView(open_case.id, open_case.priority, open_case.status,
                         RESPONSE_TARGET_MINUTES.get(open_case.priority)) if open_case is not None else None)
        if inbound.kind == "button":
            turn = await self.dialogue.process_button(state, inbound.text, case)
        elif inbound.kind == "media":
            turn = self._media_turn(state, loaded.case is not None, inbound.meta.get("media", "message"))
        else:
            turn = await self.dialogue.process_text(state, inbound.text, case)
        # the case-number reminder is said once per case: "told" is the case the user was last told about
        told = state.data.get("case_told")
        if open_case is not None and told == "new":
            told = state.data["case_told"] = open_case.id  # the acknowledgement of the last turn named it
        remind = open_case is not None and told != open_case.id and not turn.case_told
        if turn.case_told and open_case is not None:
            state.data["case_told"] = open_case.id
        if turn.escalation and (open_case is None or turn.escalation != open_case.priority):
            state.data["case_told"] = "new"  # a new or raised case: its acknowledgement names it
        understanding = turn.understanding
        in_meta, entities = {}, list(turn.entities)
        if understanding is not None:
            entities = list(understanding.entities or []) + entities
            in_meta = {"intent": understanding.intent, "confidence": round(float(understanding.confidence), 4),
                       "language": understanding.language, "entities": entities}
            safety = understanding.safety
            if safety is not None and (safety.urgent or safety.ask):
                in_meta["safety"] = {"source": safety.source, "ask": safety.ask, "matched": list(safety.matched),
                                     "p_emergency": round(float(safety.probability), 4)}
        if turn.case.get("agent_check"):  # an agent check's result: joins the open case with the message
            in_meta["agent_check"] = turn.case["agent_check"]
        escalation = None
        if turn.escalation:
            escalation = Escalation(turn.escalation, turn.reason or "human", report=turn.case.get("report"),
                                    offer_check=turn.case.get("offer_check"), fired_by=turn.case.get("fired_by"),
                                    fired_brief=turn.case.get("fired_brief"))
        record = TurnRecord(inbound=inbound, state=state, language=turn.language, replies=turn.replies,
                            in_meta=in_meta, entities=entities, escalation=escalation,
                            durable_replies=self.durable_replies, claim_as=self.claim_as,
                            lease_seconds=self.lease_seconds, version=loaded.version,
                            learning=self._learning(turn, inbound), vote=turn.vote)
        acks: list[Reply] = []
        outcome_box: list[CaseOutcome | None] = []

        def acknowledge(outcome: CaseOutcome | None, erased_with_case: bool) -> list[Reply]:
            outcome_box[:] = [outcome]  # called again when the commit is retried
            said = self._acknowledgement(turn, inbound, escalation, outcome, erased_with_case, remind)
            acks[:] = merge_replies(list(turn.replies) + said)  # one message per turn where it can be
            return acks

        record.replies = []  # the acknowledgement returns the whole turn, merged
        items = await run_db(self.store.engine, commit_turn, self.store, record, acknowledge, self.case_text)
        return Handled(list(acks), items, outcome_box[0] if outcome_box else None)

    def _learning(self, turn: Turn, inbound: Inbound):
        """What the learning inbox gets from this turn (bot/learning/inbox.py): the message that fell back
        or got an ask-back, or the question under an answer marked not helpful; redacted in the turn's
        transaction (the staff's names are read there)."""
        learn = turn.learn
        if not learn:
            return None
        from ..learning.inbox import candidate

        if learn["source"] == "not_helpful":
            text, nlu = learn.get("text") or "", learn
        elif inbound.kind == "text" and turn.understanding is not None:
            u = turn.understanding
            text, nlu = inbound.text, {"intent": u.intent, "confidence": u.confidence, "ranking": u.ranking,
                                       "entities": u.entities}
        else:
            return None
        language = turn.language

        def row(staff_names: list[str]) -> dict | None:
            return candidate(text, language, learn["source"], list(inbound.names) + staff_names,
                             intent=nlu.get("intent"), confidence=nlu.get("confidence"), ranking=nlu.get("ranking") or (),
                             entities=nlu.get("entities") or (), training=self.training)
        return row

    # -- what the user is told -------------------------------------------------------------------------
    def _media_turn(self, state, has_case: bool, media: str) -> Turn:
        lang = state.language or "en"
        content = self.dialogue.content_store.get()
        lang = lang if lang in content.languages else "en"
        rtl = content.languages[lang].rtl
        if has_case:
            return Turn([], lang)  # the acknowledgement says it went into the case
        kind = self.i18n.tr(lang, MEDIA_KINDS.get(media, MEDIA_KINDS["message"]))
        text = self.i18n.tr(lang, "I can read only text messages, so I cannot use this {kind}. Please type your "
                                  "question in a few words. If someone is in danger now, write what is happening.",
                            kind=kind)
        return Turn([Reply(text, (), lang, rtl)], lang)

    def _acknowledgement(self, turn: Turn, inbound: Inbound, escalation: Escalation | None,
                         outcome: CaseOutcome | None, erased_with_case: bool, remind: bool = True) -> list[Reply]:
        lang = turn.language
        content = self.dialogue.content_store.get()
        rtl = content.languages[lang].rtl if lang in content.languages else False
        t = self.i18n.tr
        if erased_with_case and outcome is not None:
            return [Reply(t(lang, "What you sent to the SafeSafar team in case number {case} stays with the team "
                                  "until the case is closed.", case=outcome.case_id), (), lang, rtl)]
        if outcome is None:
            return []
        case = str(outcome.case_id)
        if escalation is not None and (outcome.opened or outcome.raised):
            if outcome.priority == "urgent":
                text = t(lang, "Your message has been passed to the SafeSafar team as an urgent case (number "
                               "{case}). A person will read it and answer you here as soon as possible. If you are "
                               "in danger now, call the numbers above.", case=case)
            elif escalation.reason == "report":
                text = t(lang, "Your report has reached the SafeSafar team as case number {case}. A person will read "
                               "it. Thank you for reporting. This is not yet a complaint to the FIA: we can help you "
                               "file one.", case=case)
                if escalation.report and escalation.report.get("contact") is False:
                    text += "\n" + t(lang, "As you asked, the SafeSafar team will not contact you about it.")
            elif escalation.reason == "offer_check":
                text = t(lang, "Your offer check has been passed to the SafeSafar team as case number {case}. A "
                               "person will look at it and answer you here.", case=case)
            else:
                text = t(lang, "Your request has reached the SafeSafar team as case number {case}. A person will "
                               "answer you here when one is free. Meanwhile I can still answer your questions.", case=case)
            buttons: tuple = ()
            if escalation.reason == "report" and "report_suspect" in content.topics:
                buttons = ((Button(content.title("report_suspect", lang), "topic:report_suspect"),),)
            return [Reply(text, buttons, lang, rtl)]
        if escalation is not None and escalation.reason == "report":
            return [Reply(t(lang, "Your report was added to your open case number {case}.", case=case), (), lang, rtl)]
        if inbound.kind == "media":
            kind = t(lang, MEDIA_KINDS.get(inbound.meta.get("media", "message"), MEDIA_KINDS["message"]))
            return [Reply(t(lang, "Thank you: your {kind} was added to your case number {case}. Someone from the "
                                  "SafeSafar team will see it.", kind=kind, case=case), (), lang, rtl)]
        if (inbound.kind == "text" and remind) or escalation is not None:
            return [Reply(t(lang, "Your case number {case} is open: someone from the SafeSafar team will reply in "
                                  "this chat.", case=case), (), lang, rtl)]
        return []
