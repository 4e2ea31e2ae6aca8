"""AI: the models of the console's AI worker and a "try it" panel (issue #12, "Console").

The table shows every model of the worker — the in-process node's (`lpc node --aiWorker`, Node.ai) when it
has one, else one started here with `M` — with its state (warm = loaded, cold = loads on the first
request, loading, unavailable), device, memory, slots in use of its capacity, requests, errors, median
latency and price; the highlighted row's description, or why it is unavailable, in words beneath. Before a
worker runs, the screen says what `M` would load and the memory it takes.

The try-it panel sends one request to a served pipeline as a gateway would (core.ai.ports' request
dataclasses, through services.ai_try): a prompt for llm / text-to-speech / text-to-image, a file path for
audio-to-text / upscale / the image pipelines. The llm's answer streams in as it is generated; a
transcript shows with its timestamps; audio, images and video are saved under <data dir>/ai-try and shown
with their path, size and duration or resolution. A failure is the AIError's message, never a traceback.

Habits 1–3: the models are read in a thread worker (services.ai_overview) that never overlaps — the next
read is armed when the last one was shown, a refresh during a read becomes one more read after it; the
worker is started and stopped, and every try runs, in workers that post typed messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from console.screens.ai.overview import SOURCES, AIOverview, mebibytes
from console.screens.ai.path_suggester import PathSuggester
from console.screens.base import ConsoleScreen

COLUMNS = (
    ("pipeline", "Pipeline", 18), ("model", "Model", 35), ("state", "State", 11), ("device", "Device", 6),
    ("memory", "Memory", 8), ("use", "Use/Cap", 7), ("requests", "Req", 5), ("errors", "Err", 4),
    ("p50", "p50", 8), ("price", "Price", 24),
)
STATE_COLOUR = {"warm": "success", "cold": "secondary", "loading": "warning", "unavailable": "error"}
STATE_WORDS = {"warm": "loaded, answers at once", "cold": "loads on its first request",
               "loading": "loading its weights", "unavailable": "not served"}


# -- messages (workers → screen) ------------------------------------------------------------------
@dataclass
class ModelsRead(Message, bubble=False):
    """One read of the worker's models (or why it failed)."""

    overview: AIOverview | None
    error: str = ""


@dataclass
class StartNoteRead(Message, bubble=False):
    """What starting a worker here would load, and its memory."""

    note: str


@dataclass
class WorkerStarted(Message, bubble=False):
    pass


@dataclass
class WorkerStopped(Message, bubble=False):
    pass


@dataclass
class WorkerFailed(Message, bubble=False):
    """The worker did not start (a bad aiModels.json, …): why, in words."""

    reason: str


@dataclass
class TryChunk(Message, bubble=False):
    """A piece of the llm's answer as it was generated (many a second: it does not bubble, and each is a
    delta, so none can be dropped)."""

    run: int
    text: str
    model_id: str


@dataclass
class TryDone(Message, bubble=False):
    run: int
    answer: object  # console.screens.ai.try_it.TryAnswer


@dataclass
class TryFailed(Message, bubble=False):
    run: int
    reason: str


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _latency(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


class AIScreen(ConsoleScreen):
    CSS_PATH = "ai.tcss"
    BINDINGS = [
        Binding("M", "toggle_worker", "Start/stop AI worker", id="ai.toggle_worker"),
        Binding("ctrl+s", "try_it", "Run it", id="ai.try_it"),
        Binding("P", "next_pipeline", "Next pipeline", id="ai.next_pipeline"),
        Binding("1", "form(1)", "Type input", id="ai.form"),
        Binding("X", "stop_try", "Stop the answer", id="ai.stop_try"),
        Binding("r", "refresh", "Refresh", id="ai.refresh"),
    ]
    POLL_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__(id="ai")
        self.overview: AIOverview | None = None
        self.read_error = ""
        self.start_note = ""  # what M would load (read once while no worker runs)
        self.worker_error = ""  # why the last M did not start a worker (until the next M)
        self.toggling = False
        self.try_state = "idle"  # idle | running | done | failed
        self._polling = False
        self._again = False
        self._timer = None
        self._run = 0  # the current try; messages of an older one are ignored
        self._run_started = 0.0
        self._run_label = ""
        self._ticker = None
        self._streamed = ""
        self._options: list[tuple[str, str]] = []  # the Select's (label, pipeline) while unchanged

    def compose_body(self) -> ComposeResult:
        yield Static("", id="ai-status")
        yield DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="unavailable")
        with Horizontal(id="lower"):
            yield Static("", id="model-detail")
            with Vertical(id="try-box"):
                yield Static("Try it: pick a pipeline, type its input, ctrl+s (or Enter in a field) runs it",
                             id="try-title")
                yield Select((), prompt="pipeline", id="try-pipeline", allow_blank=True)
                with Horizontal(id="try-fields"):
                    yield Input(placeholder="prompt", id="try-prompt")
                    yield Input(placeholder="file path", id="try-file", suggester=PathSuggester())
                yield Static("", id="try-hint")
                yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="try-progress")
                yield Static("", id="try-status")
                with VerticalScroll(id="try-answer-box"):
                    yield Static("", id="try-answer")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self._render_fields()
        self._render_answer(Text("the answer shows here", style="dim"))
        self._poll()

    # -- reading the worker: one read at a time, the next armed when it was shown -----------------
    def _poll(self) -> None:
        if self._polling:
            self._again = True
            return
        self._polling = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._read()

    @work(thread=True, group="ai-read")
    def _read(self) -> None:
        try:
            overview = self.app.services.ai_overview()
        except Exception as exc:  # noqa: BLE001 - the worker's own failure is shown, not raised
            self.post_message(ModelsRead(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ModelsRead(overview))

    def on_models_read(self, message: ModelsRead) -> None:
        self._polling = False
        self.read_error = message.error
        if message.overview is not None:
            self.overview = message.overview
        if self.overview is not None and not self.overview.source and not self.start_note:
            self.start_note = "…"
            self._read_start_note()
        self._draw()
        if self._again:
            self._again = False
            self._poll()
        elif self.is_mounted:
            self._timer = self.set_timer(self.POLL_SECONDS, self._poll)

    @work(thread=True, exclusive=True, group="ai-start-note")
    def _read_start_note(self) -> None:
        try:
            note = self.app.services.ai_start_note()
        except Exception as exc:  # noqa: BLE001 - e.g. a bad aiModels.json: said, not raised
            note = f"a worker cannot be built from these settings: {exc}"
        self.post_message(StartNoteRead(note))

    def on_start_note_read(self, message: StartNoteRead) -> None:
        self.start_note = message.note
        self._render_status()

    def action_refresh(self) -> None:
        self._poll()

    # -- drawing --------------------------------------------------------------------------------
    def _colour(self, name: str) -> str:
        return self.app.theme_variables.get(name, "")

    def _draw(self) -> None:
        self._render_status()
        self._render_table()
        self._render_pipelines()

    def _render_status(self) -> None:
        ov = self.overview
        running = ov is not None and bool(ov.source)
        self.set_class(not running, "-stopped")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        if not running:
            grid.add_row("AI worker", Text("none in this console", style="bold"))
            grid.add_row("", Text("press M to start one with the models of these settings ([node] ai_models, "
                                  "else the bundled defaults); or start the node with its AI worker (--ai-worker)"))
            if self.start_note:
                grid.add_row("M loads", Text(self.start_note if self.start_note != "…" else "reading what it would load …"))
        else:
            warm = sum(1 for m in ov.models if m.state == "warm")
            served = len(ov.servable)
            grid.add_row("AI worker", Text(f"{SOURCES[ov.source]} · {_count(served, 'model')} served, {warm} loaded",
                                           style="bold"))
            grid.add_row("device", Text(f"{ov.device or '—'}" + (f" · {ov.device_reason}" if ov.device_reason else "")))
            requests = sum(m.requests for m in ov.models)
            errors = sum(m.errors for m in ov.models)
            grid.add_row("memory", Text(f"{mebibytes(ov.memory_bytes)} of weights loaded · {_count(requests, 'request')}"
                                        f" · {_count(errors, 'model error')}"))
        if self.worker_error and not running:
            grid.add_row("error", Text(f"the AI worker did not start: {self.worker_error}", style="bold"))
        if self.read_error:
            grid.add_row("error", Text(f"the models could not be read: {self.read_error}", style="bold"))
        self.query_one("#ai-status", Static).update(grid)

    def _models(self):
        return self.overview.models if self.overview is not None else ()

    def _render_table(self) -> None:
        table = self.query_one(DataTable)
        selected = None
        if table.row_count and table.cursor_row < table.row_count:
            selected = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear()
        keys = []
        for m in self._models():
            key = f"{m.pipeline}/{m.model_id}"
            keys.append(key)
            colour = self._colour(STATE_COLOUR.get(m.state, "foreground"))
            table.add_row(m.pipeline, m.model_id or "—", Text(m.state, style=f"bold {colour}".strip()),
                          m.device or "—", Text(mebibytes(m.memory_bytes), justify="right"),
                          Text(f"{m.in_use}/{m.capacity}", justify="right"),
                          Text(str(m.requests), justify="right"), Text(str(m.errors), justify="right"),
                          Text(_latency(m.latency_p50_s), justify="right"), m.price or "—", key=key)
        self.set_class(not keys, "-no-models")
        if selected in keys:
            table.move_cursor(row=keys.index(selected))
        missing = [m.pipeline for m in self._models() if m.state == "unavailable"]
        self.query_one("#unavailable", Static).update(
            Text(f"unavailable: {', '.join(missing)} — highlight a row for why", style="dim") if missing else "")
        self._render_detail()

    def _highlighted(self):
        models = self._models()
        table = self.query_one(DataTable)
        if not models or not table.row_count:
            return None
        return models[min(table.cursor_row, len(models) - 1)]

    def _render_detail(self) -> None:
        m = self._highlighted()
        detail = self.query_one("#model-detail", Static)
        if m is None:
            detail.update(Text("No AI worker: its models show here with their state, device, memory, requests, "
                               "latency and price. M starts one in this console; the in-process node's shows "
                               "when it runs with --ai-worker.", style="dim"))
            return
        text = Text()
        text.append(f"{m.pipeline} · {m.model_id or '—'}\n", style="bold")
        colour = self._colour(STATE_COLOUR.get(m.state, "foreground"))
        text.append(m.state, style=f"bold {colour}".strip())
        text.append(f" ({STATE_WORDS.get(m.state, m.state)})")
        if m.state != "unavailable":
            where = m.device or (f"loads on {self.overview.device}" if self.overview and self.overview.device else "—")
            text.append(f" · {where} · {mebibytes(m.memory_bytes)}"
                        f" · {'bundled with lpc' if m.bundled else 'user-supplied weights'}")
        text.append("\n")
        text.append("why: " if m.state == "unavailable" else "", style="bold")
        text.append(f"{m.reason}\n" if m.reason else "\n")
        if m.state != "unavailable":
            client, refused = m.client_errors, m.refused
            text.append(f"slots {m.in_use}/{m.capacity} in use · {_count(m.requests, 'request')} · "
                        f"{_count(m.errors, 'model error')}"
                        + (f" · {client} bad inputs" if client else "") + (f" · {refused} refused (busy)" if refused else "")
                        + f" · p50 {_latency(m.latency_p50_s)} · last {_latency(m.latency_last_s)}\n")
            text.append(f"price {m.price or '—'}")
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_detail()

    # -- the worker: started and stopped in a worker, adopted on the UI thread --------------------
    def action_toggle_worker(self) -> None:
        if self.toggling:
            return
        ov = self.overview
        if ov is not None and ov.source == "node":
            self.app.log_event("info", "the AI models are the node's (--ai-worker): they stop with the node "
                                       "(x on Sessions)")
            return
        self.worker_error = ""
        self.toggling = True
        services = self.app.services
        if services.ai_worker is not None:
            worker = services.release_ai_worker()
            self._render_status()
            self._stop_worker(worker)
        else:
            self._start_worker()

    @work(thread=True, exclusive=True, group="ai-toggle")
    def _start_worker(self) -> None:
        app = self.app
        try:
            worker = app.services.launch_ai_worker()
        except Exception as exc:  # noqa: BLE001 - a bad aiModels.json, …: say so, keep running
            app.call_from_thread(app.log_event, "error", f"AI worker did not start: {exc}")
            self.post_message(WorkerFailed(str(exc)))
            return
        app.call_from_thread(app.services.adopt_ai_worker, worker)
        self.post_message(WorkerStarted())

    @work(thread=True, exclusive=True, group="ai-toggle")
    def _stop_worker(self, worker) -> None:
        try:
            worker.stop()
        finally:
            self.post_message(WorkerStopped())

    def on_worker_started(self, message: WorkerStarted) -> None:
        self.toggling = False
        self.start_note = ""
        self.app.log_event("success", "AI worker started in this console: its warm models are loading")
        self._poll()

    def on_worker_stopped(self, message: WorkerStopped) -> None:
        self.toggling = False
        self.app.log_event("info", "AI worker stopped: its models are freed")
        self._poll()

    def on_worker_failed(self, message: WorkerFailed) -> None:
        self.toggling = False
        self.worker_error = message.reason
        self._render_status()

    # -- the try-it panel -------------------------------------------------------------------------
    def _pipeline(self):
        from core.ai.ports import Pipeline

        value = self.query_one("#try-pipeline", Select).value
        return Pipeline(value) if isinstance(value, str) else None

    def _render_pipelines(self) -> None:
        """The pipelines with a servable model, in the Select (left alone while unchanged, so the choice
        stays)."""
        select = self.query_one("#try-pipeline", Select)
        servable = self.overview.servable if self.overview is not None else ()
        seen: dict[str, str] = {}
        for m in servable:
            seen.setdefault(m.pipeline, m.model_id)
        options = [(f"{p} · {model}", p) for p, model in seen.items()]
        if options != self._options:
            current = select.value
            self._options = options
            select.set_options(options)
            if current in seen:
                select.value = current
            elif options:
                select.value = options[0][1]
            self._render_fields()

    @on(Select.Changed, "#try-pipeline")
    def _pipeline_changed(self, event: Select.Changed) -> None:
        self._render_fields()

    def _render_fields(self) -> None:
        from console.screens.ai.try_it import FIELDS

        pipeline = self._pipeline()
        prompt, path = self.query_one("#try-prompt", Input), self.query_one("#try-file", Input)
        hint = self.query_one("#try-hint", Static)
        if pipeline is None:
            prompt.disabled = path.disabled = True
            prompt.placeholder, path.placeholder = "prompt", "file path"
            hint.update(Text("no pipeline to try: start an AI worker (M)" if not self._models()
                             else "no pipeline has a servable model", style="dim"))
            return
        fields = FIELDS[pipeline]
        prompt.disabled, path.disabled = not fields.prompt, not fields.file
        prompt.placeholder = fields.prompt or "(no prompt for this pipeline)"
        path.placeholder = fields.file or "(no file for this pipeline)"
        wants = [w for w in (fields.prompt, fields.file) if w]
        hint.update(Text(f"{pipeline.value} takes " + " and ".join(wants), style="dim"))

    def action_next_pipeline(self) -> None:
        options = self._options
        if not options:
            self._say("no pipeline to try: start an AI worker (M)", "error")
            return
        values = [v for _, v in options]
        select = self.query_one("#try-pipeline", Select)
        at = values.index(select.value) if select.value in values else -1
        select.value = values[(at + 1) % len(values)]

    def action_form(self, n: int = 1) -> None:
        for field in ("#try-prompt", "#try-file"):
            widget = self.query_one(field, Input)
            if not widget.disabled:
                widget.focus()
                return
        self._say("no pipeline to try: start an AI worker (M)", "error")

    @on(Input.Submitted, "#try-prompt, #try-file")
    def _field_submitted(self, event: Input.Submitted) -> None:
        self.action_try_it()

    def action_try_it(self) -> None:
        if self.try_state == "running":
            self._say("a try is running: wait for its answer or stop it (X)", "error")
            return
        pipeline = self._pipeline()
        if pipeline is None:
            self._say("no pipeline to try: start an AI worker (M)" if not self._models()
                      else "pick a pipeline with a served model", "error")
            return
        self._run += 1
        self.try_state = "running"
        self._streamed = ""
        self._run_started = time.monotonic()
        self._run_label = pipeline.value
        self.set_class(True, "-running")
        self._ticker = self.set_interval(0.2, self._tick)
        self._tick()
        self._render_answer(Text(""))
        prompt = self.query_one("#try-prompt", Input).value
        path = self.query_one("#try-file", Input).value
        from core.ai.ports import Pipeline

        if pipeline is Pipeline.LLM:
            self._stream_llm(self._run, prompt)
        else:
            self._run_try(self._run, pipeline, prompt, path)

    def _tick(self) -> None:
        if self.try_state == "running":
            self._say(f"running {self._run_label} … {time.monotonic() - self._run_started:.1f} s", "")

    @work(thread=True, exclusive=True, group="ai-try")
    def _run_try(self, run: int, pipeline, prompt: str, path: str) -> None:
        try:
            answer = self.app.services.ai_try(pipeline, prompt, path)
        except Exception as exc:  # noqa: BLE001 - AIError in words; anything else named, never a traceback
            self.post_message(TryFailed(run, _words(exc)))
            return
        self.post_message(TryDone(run, answer))

    @work(thread=True, exclusive=True, group="ai-try")
    def _stream_llm(self, run: int, prompt: str) -> None:
        from console.screens.ai.try_it import TryAnswer

        me = get_current_worker()
        started = time.monotonic()
        text, last = [], None
        try:
            chunks = self.app.services.ai_try_stream(prompt)
            try:
                for chunk in chunks:
                    if me.is_cancelled:
                        break
                    last = chunk
                    if chunk.text:
                        text.append(chunk.text)
                        self.post_message(TryChunk(run, chunk.text, chunk.model))
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # stops the generation and frees the slot when the answer was stopped early
        except Exception as exc:  # noqa: BLE001 - AIError in words
            self.post_message(TryFailed(run, _words(exc)))
            return
        if me.is_cancelled:
            return  # stopped (X, or the screen left): the screen already said so
        if last is None:
            self.post_message(TryFailed(run, "llm: the model answered nothing"))
            return
        self.post_message(TryDone(run, TryAnswer("llm", last.model, time.monotonic() - started, "".join(text),
                                                 finish_reason=last.finish_reason or "stopped", usage=last.usage)))

    def on_try_chunk(self, message: TryChunk) -> None:
        if message.run != self._run:
            return
        self._streamed += message.text
        self._render_answer(Text(self._streamed))

    def on_try_done(self, message: TryDone) -> None:
        if message.run != self._run:
            return
        self._finish("done")
        self._render_answer(_answer_text(message.answer))
        a = message.answer
        self._say(f"{a.pipeline} answered in {a.elapsed_s:.2f} s ({a.model_id})", "ok")
        self._poll()

    def on_try_failed(self, message: TryFailed) -> None:
        if message.run != self._run:
            return
        self._finish("failed")
        self._render_answer(Text(f"✗ {message.reason}", style=f"bold {self._colour('error')}".strip()))
        self._say("the try failed: " + message.reason, "error")
        self._poll()

    def action_stop_try(self) -> None:
        if self.try_state != "running":
            self._say("nothing is running", "")
            return
        self.workers.cancel_group(self, "ai-try")
        self._run += 1  # whatever the stopped try still posts is ignored
        self._finish("failed")
        self._say(f"stopped {self._run_label}: an llm answer stops at once; another pipeline finishes "
                  f"its run in the background", "")

    def _finish(self, state: str) -> None:
        self.try_state = state
        self.set_class(False, "-running")
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _say(self, words: str, kind: str) -> None:
        status = self.query_one("#try-status", Static)
        for k in ("error", "ok"):
            status.set_class(kind == k, f"-{k}")
        status.update(Text(words))

    def _render_answer(self, text: Text) -> None:
        self.query_one("#try-answer", Static).update(text)


def _words(exc: Exception) -> str:
    """An AIError's own message (it names the pipeline and model and says what to do); anything else with
    its type, so a bug reads as one, on one line."""
    from core.ai.ports import AIError

    if isinstance(exc, AIError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _answer_text(answer) -> Text:
    """What a try produced: the text (with the transcript's timestamps), or the saved files."""
    from console.screens.ai.try_it import clock_span

    text = Text()
    head = f"{answer.pipeline} · {answer.model_id} · {answer.elapsed_s:.2f} s" + (
        " (loading the model first)" if answer.loaded_first else "")
    if answer.usage is not None:
        head += (f" · {answer.usage.prompt_tokens} prompt + {answer.usage.completion_tokens} answer tokens"
                 f" ({answer.finish_reason})")
    text.append(head + "\n", style="bold")
    if answer.text:
        text.append(answer.text.strip() + "\n")
    if answer.chunks:
        text.append("\n")
        for c in answer.chunks:
            text.append(f"[{clock_span(c.timestamp[0])} → {clock_span(c.timestamp[1])}] ", style="bold")
            text.append(c.text.strip() + "\n")
    for f in answer.files:
        text.append("saved ", style="bold")
        text.append(f"{f.path}\n")
        text.append(f"      {mebibytes(f.size_bytes) if f.size_bytes >= 2**20 else f'{f.size_bytes / 1024:.1f} KiB'}"
                    f" · {f.detail}\n")
    if not answer.text and not answer.chunks and not answer.files:
        text.append("(the model answered with nothing)", style="dim")
    return text
