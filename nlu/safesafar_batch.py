"""Micro-batched parsing for the NLU-only Rasa server: POST /webhooks/safesafar/parse.

Rasa's /model/parse runs the whole pipeline for one message at a time; most of its cost (~13 ms of CPU
per message here) is per call, in DIET's TensorFlow call and its sparse-matrix set-up, not per message.
Rasa's graph already takes a list of messages and every component's `process` a list, so under load
this endpoint parses whatever requests are waiting together, in one graph run: about 5-6 ms of CPU per
message at 8-16 messages. An idle server parses a lone message at once, as /model/parse would.

Loaded by `rasa run --credentials nlu/credentials.yml` as an input channel (Rasa's extension point for
extra HTTP routes), which Rasa imports before it loads the model. The answer is exactly /model/parse's
JSON. Texts starting with "/" (Rasa's intent syntax) go through Rasa's own single-message path.

DIETClassifier.process loops over the messages and calls TensorFlow once per message; the batched
version below calls it once per batch (same model, same weights; confidences agree to ~1e-7, see
tests/test_nlu_batch.py). It is installed when this module is imported, before the model's graph picks
up the component's methods; it only applies when DIET does no entity recognition (our pipeline), and a
single message takes DIET's own path.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import INTENT
from sanic import Blueprint, response

logger = logging.getLogger(__name__)

MAX_BATCH = 32
_diet_process = DIETClassifier.process


def _batched_process(self: DIETClassifier, messages: List[Any]) -> List[Any]:
    config = self.component_config
    if (len(messages) < 2 or self.model is None or config.get("entity_recognition")
            or not config.get("intent_classification", True)
            or self._execution_context.should_add_diagnostic_data):
        return _diet_process(self, messages)
    model_data = self._create_model_data(messages, training=False)
    if model_data.is_empty() or model_data.number_of_examples() != len(messages):
        return _diet_process(self, messages)
    out = self.model.run_inference(model_data, batch_size=len(messages))
    scores = out["i_scores"]
    for i, message in enumerate(messages):
        label, ranking = self._predict_label({"i_scores": scores[i:i + 1]})
        message.set(INTENT, label, add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
    return messages


DIETClassifier.process = _batched_process


class _Batcher:
    """Collects the texts of concurrent requests and parses them in one graph run."""

    def __init__(self) -> None:
        self.agent: Any = None  # the server's current agent (PUT /model replaces it)
        self.waiting: List[tuple] = []
        self.wakeup: Optional[asyncio.Event] = None
        self.task: Optional[asyncio.Task] = None
        self.batches = 0
        self.messages = 0

    async def parse(self, agent: Any, text: Text) -> Dict[Text, Any]:
        self.agent = agent
        if self.task is None or self.task.done():
            self.wakeup = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((text, future))
        self.wakeup.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            # two more turns of the loop: requests whose bytes arrived meanwhile (read in one turn,
            # their handlers run in the next) join this batch
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                try:
                    results = parse_batch(self.agent, [text for text, _ in batch])
                except Exception as error:  # noqa: BLE001 - each waiting request gets the error
                    logger.exception("batch parse failed")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    self.batches += 1
                    self.messages += len(batch)
                    for (_, future), result in zip(batch, results):
                        if not future.done():
                            future.set_result(result)
                await asyncio.sleep(0)


def parse_batch(agent: Any, texts: List[Text]) -> List[Dict[Text, Any]]:
    """What /model/parse answers for each text, from one run of the model's graph."""
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import ENTITIES, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

    processor = agent.processor
    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("nlu", [])},
        targets=[target])
    parsed = []
    for message in results[target]:
        data: Dict[Text, Any] = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                                 ENTITIES: []}
        data.update(message.as_dict(only_output_properties=True))
        processor._update_full_retrieval_intent(data)
        parsed.append(data)
    if len(parsed) != len(texts):
        raise RuntimeError(f"the graph returned {len(parsed)} results for {len(texts)} messages")
    return parsed


class BatchParseInput(InputChannel):
    """Adds POST /webhooks/safesafar/parse ({"text": ...} -> /model/parse's answer) and GET .../stats."""

    @classmethod
    def name(cls) -> Text:
        return "safesafar"

    def __init__(self) -> None:
        self.batcher = _Batcher()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        hook = Blueprint("safesafar_batch_parse", __name__)
        batcher = self.batcher

        @hook.route("/", methods=["GET"])
        async def health(request: Any) -> Any:
            return response.json({"status": "ok", "batches": batcher.batches, "messages": batcher.messages})

        @hook.route("/parse", methods=["POST"])
        async def parse(request: Any) -> Any:
            body = request.json if request.body else None
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str):
                return response.json({"error": "a JSON body with a string field 'text' is required"}, status=400)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=409)
            if text.startswith("/"):  # Rasa's "/intent{...}" syntax: Rasa's own path
                return response.json(await agent.parse_message(text))
            return response.json(await batcher.parse(agent, text))

        return hook
