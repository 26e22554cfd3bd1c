"""Micro-batched parsing for the NLU-only Rasa server: POST /webhooks/safesafar/parse.

Rasa's /model/parse runs the whole pipeline for one message at a time; most of its cost (~15 ms of CPU
per message here) is per call, not per message: TensorFlow's call overhead, sparse-matrix set-up, dask.
Rasa's graph already takes a list of messages and every component's `process` a list, so this endpoint
parses whatever texts are waiting together, in one graph run. A request may carry several texts
({"texts": [...]}; the bot's client sends what queued up while its previous request was out), and
concurrent requests join the same batch. An idle server parses a lone message at once.

Loaded by `rasa run --credentials nlu/credentials.yml` as an input channel (Rasa's extension point for
extra HTTP routes), which Rasa imports before it loads the model. Each answer is exactly /model/parse's
JSON. Texts starting with "/" (Rasa's intent syntax) go through Rasa's own single-message path.

Installed when this module is imported (before the model's graph picks up the components' methods),
for every parse in this process; tests/test_nlu_batch.py checks that the answers equal plain Rasa's
(a separate process without this module) on held-out messages, one by one and in batches:
- DIETClassifier.process: one call of the prediction graph's concrete function per batch, instead of a
  `tf.function` call per message (only without entity recognition, our pipeline);
- CountVectorsFeaturizer.process: one sklearn `transform` per batch, instead of two per message;
- Message._combine_features: a message's sparse features joined in one step, not pairwise `hstack`s;
- the graph's nodes run in order without dask (`_run_graph`).
In-process CPU per message (`.venv/bin/python bench/nlu_inprocess.py`): plain Rasa ~16 ms; this path
~9 ms alone, ~5 ms in batches of 4, ~3.6 ms in batches of 16.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.core.channels.channel import InputChannel
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from sanic import Blueprint, response

logger = logging.getLogger(__name__)

MAX_BATCH = 32
_diet_process = DIETClassifier.process


_concrete: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def _predict_scores(model: Any, model_data: Any, count: int) -> Any:
    """DIET's intent scores for `count` messages in one TensorFlow call.

    Rasa calls its `tf.function` with numpy inputs, which costs ~5 ms of CPU a call in argument
    canonicalisation and signature matching; the same graph called as its concrete function with
    tensors of the signature's dtypes costs ~1.3 ms and gives the same scores."""
    import tensorflow as tf
    from rasa.utils import train_utils

    generator, _ = train_utils.create_data_generators(model_data=model_data, batch_sizes=count, epochs=1,
                                                      shuffle=False)
    batch_in = next(iter(generator))[0]
    if model._tf_predict_step is None or not model.prepared_for_prediction:
        return model._rasa_predict(batch_in)["i_scores"]  # the first call builds the graph
    entry = _concrete.get(model)
    if entry is None or entry[0] is not model._tf_predict_step:
        function = model._tf_predict_step.get_concrete_function()
        entry = (model._tf_predict_step, function, tf.nest.flatten(function.structured_input_signature))
        _concrete[model] = entry
    _, function, specs = entry
    inputs = tf.nest.flatten(batch_in)
    if len(inputs) != len(specs):
        return model._rasa_predict(batch_in)["i_scores"]
    tensors = [tf.constant(value, dtype=spec.dtype) for value, spec in zip(inputs, specs)]
    return function._call_flat(tensors, function.captured_inputs)["i_scores"].numpy()


def _batched_process(self: DIETClassifier, messages: List[Any]) -> List[Any]:
    config = self.component_config
    if (not messages or self.model is None or config.get("entity_recognition")
            or not config.get("intent_classification", True)
            or self._execution_context.should_add_diagnostic_data):
        return _diet_process(self, messages)
    model_data = self._create_model_data(messages, training=False)
    if model_data.is_empty() or model_data.number_of_examples() != len(messages):
        return _diet_process(self, messages)
    scores = _predict_scores(self.model, model_data, len(messages))
    for i, message in enumerate(messages):
        label, ranking = self._predict_label({"i_scores": scores[i:i + 1]})
        message.set(INTENT, label, add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
    return messages


DIETClassifier.process = _batched_process

_combine_features = Message._combine_features
_INT32_MAX = np.iinfo(np.int32).max


def _coo(data: Any, row: Any, col: Any, shape: tuple) -> Any:
    """The coo_matrix that `coo_matrix((data, (row, col)), shape=shape)` gives, for indices known to be in
    range, without its checks (a third of the cost of the small matrices built per message): the same
    attributes, index arrays in the dtype scipy would pick (int32 below 2**31)."""
    if max(shape) > _INT32_MAX:
        return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)
    matrix = scipy.sparse.coo_matrix.__new__(scipy.sparse.coo_matrix)
    scipy.sparse._data._data_matrix.__init__(matrix)
    matrix._shape = (int(shape[0]), int(shape[1]))
    matrix.row = row.astype(np.int32, copy=False)
    matrix.col = col.astype(np.int32, copy=False)
    matrix.data = data
    matrix.has_canonical_format = False
    return matrix


def _combine_sparse(features: List[Features], featurizers: List[Text]) -> Optional[Features]:
    """Message._combine_features for sparse features in one step.

    Rasa joins each message's featurizer outputs (4 here) pairwise with scipy.sparse.hstack, a deep copy
    and a `bmat` per join: about a fifth of a parse's CPU. This builds the same COO matrix (same data,
    same entry order, same shape and dtypes) from the blocks at once. Anything else (dense features,
    a single featurizer, mismatched rows, where Rasa raises) takes Rasa's own path."""
    if len(features) < 2 or not all(isinstance(f.features, scipy.sparse.spmatrix) for f in features):
        return _combine_features(features, featurizers)
    blocks = [f.features if f.features.format == "coo" else f.features.tocoo() for f in features]
    rows = blocks[0].shape[0]
    if any(block.shape[0] != rows for block in blocks):
        return _combine_features(features, featurizers)
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks])
    dtype = scipy.sparse._sputils.upcast(*[block.dtype for block in blocks])
    index = np.int32 if max(rows, int(offsets[-1])) <= _INT32_MAX else np.int64
    data = np.concatenate([block.data for block in blocks]).astype(dtype, copy=False)
    row = np.concatenate([block.row for block in blocks]).astype(index, copy=False)
    col = np.concatenate([block.col.astype(index, copy=False) + index(offset)
                          for block, offset in zip(blocks, offsets)])
    matrix = _coo(data, row, col, (rows, int(offsets[-1])))
    first = features[0]
    return Features(matrix, first.type, first.attribute, featurizers)


Message._combine_features = staticmethod(_combine_sparse)

_count_vectors_process = CountVectorsFeaturizer.process


def _rows(matrix: Any, start: int, stop: int) -> Any:
    """Rows start..stop of a CSR matrix with sorted indices, as the COO matrix that
    `transform(those rows' documents).tocoo()` gives."""
    lo, hi = matrix.indptr[start], matrix.indptr[stop]
    row = np.repeat(np.arange(stop - start, dtype=matrix.indices.dtype), np.diff(matrix.indptr[start:stop + 1]))
    return _coo(matrix.data[lo:hi].copy(), row, matrix.indices[lo:hi].copy(), (stop - start, matrix.shape[1]))


def _batched_count_vectors(self: CountVectorsFeaturizer, messages: List[Any]) -> List[Any]:
    """CountVectorsFeaturizer.process with one sklearn `transform` per batch instead of two per message
    (its fixed cost is most of a short message's). Each message gets the rows its own calls would give."""
    if not messages or self.vectorizers is None:
        return _count_vectors_process(self, messages)
    for attribute in self._attributes:
        vectorizer = self.vectorizers.get(attribute)
        tokens = [self._get_processed_message_tokens_by_attribute(m, attribute) for m in messages]
        if not vectorizer or not any(tokens):
            for message in messages:
                self.add_features_to_message(None, None, attribute, message)
            continue
        sentence = attribute in DENSE_FEATURIZABLE_ATTRIBUTES
        docs: List[Text] = []
        starts: List[Optional[int]] = []
        for message_tokens in tokens:
            starts.append(len(docs) if message_tokens else None)
            if message_tokens:
                docs.extend(message_tokens)
                if sentence:
                    docs.append(" ".join(message_tokens))
        matrix = vectorizer.transform(docs)
        matrix.sort_indices()
        for message, message_tokens, start in zip(messages, tokens, starts):
            if start is None:
                self.add_features_to_message(None, None, attribute, message)
                continue
            end = start + len(message_tokens)
            self.add_features_to_message(_rows(matrix, start, end),
                                         _rows(matrix, end, end + 1) if sentence else None, attribute, message)
    return messages


CountVectorsFeaturizer.process = _batched_count_vectors


class _Batcher:
    """Collects the texts of concurrent requests and parses them in one graph run."""

    def __init__(self) -> None:
        self.agent: Any = None  # the agent of the newest request (PUT /model replaces the server's)
        self.waiting: List[tuple] = []
        self.wakeup: Optional[asyncio.Event] = None
        self.task: Optional[asyncio.Task] = None
        self.batches = 0
        self.messages = 0
        self.parse_seconds = 0.0  # wall time in parse_batch (its CPU time below)
        self.parse_cpu_seconds = 0.0

    async def parse(self, agent: Any, text: Text) -> Dict[Text, Any]:
        """Parsed with the agent (model) that was loaded when the request arrived: while PUT /model
        swaps the model, the requests already here finish on the old one."""
        self.agent = agent
        if self.task is None or self.task.done():
            self.wakeup = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((agent, text, future))
        self.wakeup.set()
        return await future

    def _next_batch(self) -> tuple:
        """At most MAX_BATCH waiting texts of the oldest one's agent, in order: (agent, [(text, future)])."""
        agent = self.waiting[0][0]
        batch, rest = [], []
        for item in self.waiting:
            (batch if item[0] is agent and len(batch) < MAX_BATCH else rest).append(item)
        self.waiting = rest
        return agent, [(text, future) for _, text, future in batch]

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            # two more turns of the loop: requests whose bytes arrived meanwhile (read in one turn,
            # their handlers run in the next) join this batch
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            while self.waiting:
                agent, batch = self._next_batch()
                try:
                    started, started_cpu = time.perf_counter(), time.thread_time()
                    results = parse_batch(agent, [text for text, _ in batch])
                    self.parse_seconds += time.perf_counter() - started
                    self.parse_cpu_seconds += time.thread_time() - started_cpu
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


_graphs: "weakref.WeakKeyDictionary[Any, Dict]" = weakref.WeakKeyDictionary()


def _run_graph(runner: Any, inputs: Dict[Text, Any], target: Text) -> Dict[Text, Any]:
    """What `runner.run(inputs, targets=[target])` gives, without dask.

    Rasa's DaskGraphRunner rebuilds the graph's task dict and schedules it with dask on every call (~1.5
    ms of CPU, a seventh of a single message's parse). The NLU graph is a small chain: this runs the
    same nodes (the runner's own, with their hooks) in dependency order, each once."""
    from rasa.engine.runner.dask import DaskGraphRunner

    if type(runner) is not DaskGraphRunner:
        return runner.run(inputs=inputs, targets=[target])
    graphs = _graphs.setdefault(runner, {})
    graph = graphs.get(target)
    if graph is None:
        graph = graphs[target] = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema([target]))
    if any(name in graph for name in inputs):
        return runner.run(inputs=inputs, targets=[target])  # Rasa raises the clash error
    done: Dict[Text, Any] = {name: (name, value) for name, value in inputs.items()}

    def compute(key: Text) -> Any:
        if key not in done:
            if key not in graph:
                return key  # as dask passes an unknown key: the node logs that it is missing
            node, *needs = graph[key]
            done[key] = node(*[compute(need) for need in needs])
        return done[key]

    name, output = compute(target)
    return {name: output}


def parse_batch(agent: Any, texts: List[Text]) -> List[Dict[Text, Any]]:
    """What /model/parse answers for each text, from one run of the model's graph."""
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import ENTITIES, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

    processor = agent.processor
    target = processor.model_metadata.nlu_target
    results = _run_graph(processor.graph_runner,
                         {PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
                          PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("nlu", [])}, target)
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
    """Adds POST /webhooks/safesafar/parse ({"text": ...} -> /model/parse's answer, {"texts": [...]} ->
    {"results": [...]}, one answer per text in order), GET /webhooks/safesafar/ (batch counts) and
    PUT /webhooks/safesafar/model (Rasa's PUT /model, loading in a thread: no pause in answering)."""

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
            return response.json({"status": "ok", "batches": batcher.batches, "messages": batcher.messages,
                                  "parse_seconds": batcher.parse_seconds,
                                  "parse_cpu_seconds": batcher.parse_cpu_seconds})

        loading = asyncio.Lock()

        @hook.route("/model", methods=["PUT"])
        async def load_model(request: Any) -> Any:
            """Rasa's PUT /model ({"model_file": path}) without stopping the server: Rasa's own handler
            loads the model on the event loop, and no request is answered meanwhile (14.5 s for a tiny
            model on a busy machine: longer than the bot's NLU_TIMEOUT). Here the model is loaded in a
            worker thread while the server keeps answering with the model it has; then it is swapped in.
            Requests that arrived before finish on the old model (the batcher parses per agent)."""
            from rasa.core.agent import load_agent

            body = request.json if request.body else None
            path = body.get("model_file") if isinstance(body, dict) else None
            if not isinstance(path, str) or not path:
                return response.json({"error": "a JSON body with a string field 'model_file' is required"}, status=400)
            async with loading:
                started = time.perf_counter()
                try:
                    agent = await asyncio.get_running_loop().run_in_executor(
                        None, lambda: asyncio.run(load_agent(model_path=path)))
                except Exception as error:  # noqa: BLE001 - reported, the old model stays
                    logger.exception("loading %s failed", path)
                    return response.json({"error": f"the model could not be loaded: {error}"}, status=500)
                if agent is None or not agent.is_ready():
                    return response.json({"error": f"the model {path} could not be loaded"}, status=400)
                old = request.app.ctx.agent
                if old is not None:
                    agent.lock_store = old.lock_store
                request.app.ctx.agent = agent
                logger.info("loaded model %s in %.1f s", path, time.perf_counter() - started)
            return response.empty(status=204)

        @hook.route("/parse", methods=["POST"])
        async def parse(request: Any) -> Any:
            """{"text": "..."} -> /model/parse's answer; {"texts": [...]} -> {"results": [one each]}."""
            body = request.json if request.body else None
            many = body.get("texts") if isinstance(body, dict) else None
            if many is not None:
                if not isinstance(many, list) or not all(isinstance(t, str) for t in many):
                    return response.json({"error": "'texts' must be a list of strings"}, status=400)
                texts = many
            else:
                text = body.get("text") if isinstance(body, dict) else None
                if not isinstance(text, str):
                    return response.json({"error": "a JSON body with a string field 'text' or a list 'texts' "
                                                   "is required"}, status=400)
                texts = [text]
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=409)
            # Rasa's "/intent{...}" syntax goes Rasa's own path; everything else into the batch
            results = await asyncio.gather(*(agent.parse_message(t) if t.startswith("/") else batcher.parse(agent, t)
                                             for t in texts))
            return response.json({"results": results} if many is not None else results[0])

        return hook
