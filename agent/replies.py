"""Typed replies -> text, by verbosity (templates in ``prompts/replies.yaml``).

Example::

    >>> render("price_changed", {"price_mist": 2_500_000_000}, "expert")
    'Price set to 2.5 SUI.'

Over 500 lines: the renderer, the derived fields its templates use, and the few
replies written as code (status, dashboard, market, abandon), each small.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flows.market.analysis import MarketAnalysis
from prompts import load_yaml

_UNITS = ("B", "KB", "MB", "GB", "TB")
_MODE_TEXT = {
    "supervised": "I ask before anything paid or irreversible.",
    "auto": "No approval questions; spending stays under the caps.",
    "debug": "I stop before every step; /state shows the state, /step or /continue goes on.",
}
_CODE_TEXT = {
    "network_timeout": "network timeout",
    "service_unavailable": "storage service outage",
    "enclave_unavailable": "enclave outage",
    "chain_unavailable": "Sui node outage",
}
_NODE_TEXT = {
    "assess": "assessment",
    "register": "registration",
    "verify_submit": "verification",
    "verify_monitor": "verification",
    "list_model": "listing",
}
_ALTERNATIVE = {
    "network_timeout": "use a smaller chunk size and fewer parallel uploads "
    "(SATYA_CHUNK_SIZE_MIB=2 SATYA_UPLOAD_CONCURRENCY=1), or another publisher.",
    "service_unavailable": "point SATYA_WALRUS_PUBLISHER_URL at another publisher.",
    "enclave_unavailable": "point SATYA_NAUTILUS_URL at another enclave, or verify locally.",
    "chain_slow": "wait a few minutes and say 'wait', or point SATYA_SUI_RPC_URL at another "
    "node; the transaction keeps its key, so it is never executed twice.",
    "invalid_format": "convert the model to safetensors or ONNX (say 'conversion guide') "
    "and upload the converted file.",
    "file_problem": "check the path and the file's permissions, then upload it again.",
    "insufficient_storage": "store it for fewer epochs (e.g. 'upload PATH for 1 epoch'), "
    "compress it, or top up WAL.",
    "insufficient_funds": "top up SUI on your address, then say 'retry'.",
    "verification_failed": "fix what the enclave found (each finding says how) and upload "
    "the fixed file.",
    "blob_too_large": "lower SATYA_CHUNK_SIZE_MIB below the publisher's limit, then 'retry'.",
}
_SUGGESTION_TEXT = {
    "export_safetensors": "export the weights to safetensors (no code can hide in it)",
    "quantize_fp16": "quantize to fp16 (about half the size)",
    "prune_unused": "drop optimizer state and unused tensors",
    "onnx_simplify": "simplify the ONNX graph (onnxsim)",
    "export_onnx": "export it to ONNX (runs anywhere, and the enclave can check it)",
}
_QUESTION_TEXT = {
    "model_type": "What kind of model is it?",
    "task": "What does it do (its task)?",
    "buyers": "Who is it for (the buyers you have in mind)?",
    "licence": "Under which licence may buyers use it?",
}


def human_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as disks and networks count)."""
    size = float(n)
    for unit in _UNITS:
        if abs(size) < 1000 or unit == _UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """Seconds -> '3 s', '2 min 5 s', '1 h 4 min'; None -> 'unknown'."""
    if seconds is None:
        return "unknown"
    s = max(0, round(float(seconds)))
    if s < 60:
        return f"{s} s" if s else "under a second"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def _units(amount: object, per: int, unit: str) -> str:
    value = Decimal(int(str(amount))) / Decimal(per)
    text = format(value.normalize(), "f") if value else "0"
    return f"{text} {unit}"


def sui(mist: object) -> str:
    """MIST -> 'x SUI' exactly (no float rounding)."""
    return _units(mist, 10**9, "SUI")


def wal(frost: object) -> str:
    """FROST -> 'x WAL' exactly."""
    return _units(frost, 10**9, "WAL")


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "—"


def _derive(data: Mapping[str, object]) -> _Fields:
    out = _Fields(data)
    for key, value in data.items():
        if value is None or isinstance(value, bool):
            continue
        if key.endswith("_bytes") or key == "threshold":
            out[f"{key}_h"] = human_bytes(float(str(value)))
        if key.endswith("_mist"):
            out[f"{key}_sui"] = sui(value)
        if key.endswith("_frost"):
            out[f"{key}_wal"] = wal(value)
        if key.endswith("_s") and isinstance(value, int | float):
            out[f"{key}_d"] = human_duration(value)
    if "eta_s" in data:
        eta = data["eta_s"]
        out["eta_text"] = (
            f"about {human_duration(eta)} left"
            if isinstance(eta, int | float)
            else "time left not known yet"
        )
    suggestions = data.get("suggestions")
    if isinstance(suggestions, list):
        out["suggestions_text"] = (
            "Suggestions: "
            + "; ".join(_SUGGESTION_TEXT.get(str(s), str(s)) for s in suggestions)
            + "."
            if suggestions
            else "No changes needed."
        )
    if "fp16_command" in data or "onnx_command" in data:
        out.update(optimisation_fields(data))
    out["optimise_text"] = (
        " Or say 'optimise first' for the steps to shrink it before paying."
        if data.get("optimise")
        else ""
    )
    if "default" in data and "question" in data:
        default = str(data.get("default") or "")
        out["default_text"] = (
            f" (last time: \"{default}\"; say 'same' to keep it)" if default else ""
        )
        out["question_text"] = _QUESTION_TEXT.get(str(data["question"]), "")
    if "before_bytes" in data:
        out["comparison_text"] = (
            f"{data.get('saving_pct')}% smaller"
            if int(str(data.get("saving_pct") or 0)) > 0
            else "not smaller"
        )
        out["still_large_text"] = (
            " It is still over the size threshold, so the optimisation options follow again."
            if data.get("still_large")
            else ""
        )
    if "why" in data:
        why = data["why"]
        shorter = why in ("published", "shortcuts")
        out["graduated_text"] = (
            f"Since you have published {data.get('published')} models, I'll keep replies "
            "shorter from now on. Say 'more detail' any time to get the full explanations back."
            if why == "published"
            else "You used a shortcut, so I'll keep replies short from now on. Say 'more "
            "detail' any time to get the full explanations back."
            if why == "shortcuts"
            else "You have asked for details a few times, so I'll explain more from now on. "
            "Say 'shorter' any time to go back to short replies."
        )
        out["graduated_short"] = (
            "Shorter replies from now on; 'more detail' any time."
            if shorter
            else "More detail from now on; 'shorter' any time."
        )
    tags = data.get("tags")
    if isinstance(tags, list):
        out["tags_text"] = ", ".join(str(t) for t in tags) or "none"
    changes = data.get("changes")
    if isinstance(changes, list):
        out["changes_text"] = "; ".join(str(c) for c in changes)
    listings = data.get("listings")
    if isinstance(listings, list):
        out["listings_text"] = (
            "\n".join(
                f"  {item.get('id')}  {item.get('title')}  [{item.get('category')}]  "
                f"{sui(item.get('price_mist') or 0)}  quality {item.get('quality_score')}"
                for item in listings
                if isinstance(item, dict)
            )
            or "  (none)"
        )
    plan = data.get("plan_files")
    if isinstance(plan, list):
        out["plan_text"] = "\n".join(_plan_line(n, f) for n, f in enumerate(plan, 1))
    outcomes = data.get("outcomes")
    if isinstance(outcomes, list):
        out["outcomes_text"] = "\n".join(_outcome_line(f) for f in outcomes)
    rows = data.get("listing_files")
    if isinstance(rows, list):
        out["listing_plan_text"] = "\n".join(_listing_line(n, f) for n, f in enumerate(rows, 1))
    changed = data.get("changed")
    if isinstance(changed, list):
        out["changed_text"] = (
            "every model" if changed == ["all"] else ", ".join(str(c) for c in changed)
        )
    order = data.get("order")
    if isinstance(order, list):
        out["order_text"] = ", ".join(str(o) for o in order)
    if "mode" in data:
        out["mode_text"] = _MODE_TEXT.get(str(data["mode"]), "")
    if "delay_s" in data:
        delay = float(str(data["delay_s"]))
        out["delay_text"] = f"{delay:.1f} s" if delay < 10 else human_duration(delay)
    out |= _reached(data)
    said = data.get("lines")
    if isinstance(said, list):
        lines = [str(x) for x in said]
        out["lines_text"] = "\n".join(lines) or "Nothing has happened in this conversation yet."
    if data.get("action") == "reprice":
        out["change_text"] = (
            f"Change the price of listing {data.get('listing_id')} from "
            f"{sui(data.get('old_price_mist') or 0)} to {sui(data.get('price_mist') or 0)}?"
        )
    elif data.get("action") == "delist":
        out["change_text"] = (
            f'Take listing {data.get("listing_id")} ("{data.get("title")}") off the market?'
        )
    if "node" in data:
        out["node_text"] = _NODE_TEXT.get(str(data["node"]), str(data["node"]))
    code = str(data.get("code", ""))
    out["code_text"] = _CODE_TEXT.get(code, code.replace("_", " "))
    out["alternative_text"] = _ALTERNATIVE.get(code, "try again later.")
    if "bytes_skipped" in data:
        skipped = int(str(data["bytes_skipped"]))
        out["resumed_text"] = (
            f"Resumed: {human_bytes(skipped)} were already stored and not sent again."
            if skipped
            else ""
        )
    return out


def _reached(data: Mapping[str, object]) -> dict[str, str]:
    """How far a stopped step got, in words (empty when nothing is known)."""
    step = str(data.get("step") or data.get("stage") or "")
    percent = data.get("percent", data.get("stopped_percent"))
    stored = int(str(data.get("stored_bytes", data.get("stopped_bytes")) or 0))
    size = int(str(data.get("size_bytes") or 0))
    if step == "upload" and percent is not None:
        kept = f"{human_bytes(stored)} of {human_bytes(size)} stored" if size else "nothing stored"
        if stored:
            kept += ", kept for a resume"
        return {
            "reached_text": f"The upload got to {percent}% ({kept}). ",
            "reached_text_short": f" at {percent}% ({human_bytes(stored)} stored)",
            "resume_text": " (it resumes where it stopped)" if stored else "",
        }
    if step == "verification" and percent is not None:
        return {
            "reached_text": f"Verification got to {percent}%. ",
            "reached_text_short": f" at {percent}%",
            "resume_text": " (a fresh enclave job)",
        }
    return {"reached_text": "", "reached_text_short": "", "resume_text": ""}


def _count(n: int) -> str:
    for unit, size in (("billion", 10**9), ("million", 10**6), ("thousand", 10**3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return str(n)


def optimisation_fields(data: Mapping[str, object]) -> dict[str, str]:
    """The optimisation figures and commands in words (every field always filled)."""
    size = int(str(data.get("size_bytes") or 0))
    dtype = str(data.get("float_dtype") or "")
    params = data.get("parameter_count")
    out: dict[str, str] = {}
    if params is None:
        out["params_text"] = "its tensor declarations could not be read"
    elif not dtype:
        out["params_text"] = "it has no floating-point weights"
    else:
        out["params_text"] = f"{_count(int(str(params)))} weights in {dtype}"
    fp16, int8 = data.get("fp16_bytes"), data.get("int8_bytes")
    if fp16 is None or int8 is None:
        out["fp16_text"] = "no smaller in fp16/bf16 (nothing to narrow)"
        out["int8_text"] = "no smaller in int8"
    else:
        f16, i8 = int(str(fp16)), int(str(int8))
        out["fp16_text"] = (
            f"about {human_bytes(f16)} in fp16 or bf16 ({data.get('fp16_saving_pct')}% smaller)"
            if f16 < size
            else "no smaller in fp16/bf16 (its weights are half precision already)"
        )
        out["int8_text"] = (
            f"about {human_bytes(i8)} in int8 ({data.get('int8_saving_pct')}% smaller)"
            if i8 < size
            else "no smaller in int8"
        )
    chunks = int(str(data.get("chunk_count") or 1))
    out["shards_text"] = (
        f"{chunks} chunk{'s' * (chunks != 1)} of at most "
        f"{human_bytes(int(str(data.get('chunk_size_bytes') or 0)))}, under the publisher's "
        f"limit of {human_bytes(int(str(data.get('body_limit_bytes') or 0)))} per request "
        "(done for you)"
    )
    framework = str(data.get("onnx_framework") or "")
    onnx = str(data.get("onnx_command") or "")
    out["onnx_text"] = (
        f" ONNX export ({framework.capitalize()} -> ONNX): the enclave can then check it, and "
        "buyers run it with onnxruntime."
        if onnx
        else ""
    )
    steps: list[str] = []
    if onnx:
        steps.append(f"Export to ONNX: {onnx}")
    if data.get("fp16_command"):
        steps.append(f"Halve it (fp16): {data['fp16_command']}")
    if data.get("int8_command"):
        steps.append(f"Or quantise to int8: {data['int8_command']}")
    out["steps_text"] = (
        "\n".join(f"  {n}. {step}" for n, step in enumerate(steps, 1))
        or "  No conversion applies to this format: upload it as is."
    )
    out["onnx_line"] = f"\n  For {data.get('file_name', 'this file')}: {onnx}" if onnx else ""
    name = str(data.get("optimised_name") or "")
    out["then_text"] = (
        f"Then say 'upload {name}': I'll assess the optimised file and compare it with this one."
        if name
        else "Then upload the optimised file: I'll compare it with this one."
    )
    return out


def _plan_line(n: int, f: object) -> str:
    """One file of a bulk plan, as a table row."""
    if not isinstance(f, dict):
        return ""
    name = str(f.get("file_name", ""))
    if f.get("status") != "planned":
        return f"  -  {name}: skipped: {f.get('error_message')} {f.get('error_hint')}"
    return (
        f"  {n}. {name:<28} {f.get('format', ''):<12} {human_bytes(f.get('size_bytes') or 0):>9}  "
        f"≈{wal(f.get('cost_frost') or 0)}  upload ≈ {human_duration(f.get('upload_eta_s'))}, "
        f"verification ≈ {human_duration(f.get('verify_eta_s'))}"
    )


def _listing_line(n: int, f: object) -> str:
    """One model of a bulk listing plan: file, title, price (range), quality, tags."""
    if not isinstance(f, dict):
        return ""
    price = sui(f.get("price_mist") or 0)
    low, high = f.get("price_low_mist"), f.get("price_high_mist")
    span = f" (range {sui(low)} – {sui(high)})" if low is not None and high is not None else ""
    tags = f.get("tags")
    tagged = f"  [{', '.join(str(t) for t in tags)}]" if isinstance(tags, list) and tags else ""
    return (
        f'  {n}. {f.get("file_name", "")}: "{f.get("title", "")}"  {price}{span}  '
        f"quality {f.get('quality_score', '—')}/100{tagged}"
    )


def _outcome_line(f: object) -> str:
    """One file's outcome in a bulk summary."""
    if not isinstance(f, dict):
        return ""
    name = str(f.get("file_name", ""))
    if f.get("status") == "done":
        return (
            f"  ok      {name}: blob {f.get('manifest_blob_id')}, model {f.get('model_id')}, "
            f"quality {f.get('quality_score')}/100"
        )
    stage = f.get("stage") or "plan"
    return f"  FAILED  {name} ({stage}): {f.get('error_message')} {f.get('error_hint')}"


def _template(kind: str, expertise: str) -> str | None:
    templates = load_yaml("replies.yaml")
    entry = templates.get(kind)
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry
    assert isinstance(entry, dict)
    order = {
        "beginner": ("beginner", "text", "intermediate", "expert"),
        "intermediate": ("intermediate", "text", "beginner", "expert"),
        "expert": ("expert", "text", "intermediate", "beginner"),
    }[expertise]
    for key in order:
        if key in entry:
            return str(entry[key])
    return None


def render(kind: str, data: Mapping[str, object], expertise: str = "intermediate") -> str:
    """The words for one typed reply."""
    if expertise not in ("beginner", "intermediate", "expert"):
        expertise = "intermediate"
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(data, expertise)
    if kind.startswith("troubleshoot"):
        template = _template(f"troubleshoot_{data.get('code')}", expertise) or _template(
            kind, expertise
        )
    else:
        template = _template(kind, expertise)
    if template is None:
        return json.dumps({"reply": kind, **data}, default=str)
    return string.Formatter().vformat(template, (), _derive(data)).strip()


def _faq(data: Mapping[str, object], expertise: str) -> str:
    faq = load_yaml("faq.yaml")
    topic = str(data.get("topic") or "overview")
    return str(faq.get(topic, faq["overview"])).strip()


def _status(data: Mapping[str, object], expertise: str) -> str:
    progress = float(str(data.get("progress", 0)))
    lines = [f"Phase: {data.get('phase')} · status: {data.get('status')} · progress {progress:.0%}"]
    ctx = data.get("context")
    if isinstance(ctx, dict) and ctx:
        shown = ", ".join(
            f"{k}={human_bytes(v) if k == 'size_bytes' else sui(v) if k == 'price_mist' else v}"
            for k, v in ctx.items()
        )
        lines.append(f"Model: {shown}")
    job = data.get("job")
    if isinstance(job, dict):
        lines.append(
            f"Verification: {job.get('state')} {float(str(job.get('fraction', 0))):.0%}, "
            f"ETA {human_duration(job.get('eta_s'))}"
        )
    error = data.get("error")
    if isinstance(error, dict):
        lines.append(f"Last problem: {error.get('message')} ({error.get('hint')})")
    pending = data.get("pending_steps")
    if isinstance(pending, list) and pending:
        lines.append(
            "Next steps: "
            + ", ".join(str(s) for s in pending[: 3 if expertise == "expert" else 10])
        )
    if expertise == "beginner" and not pending:
        lines.append("Nothing in progress. Say 'upload PATH' to publish a model.")
    return "\n".join(lines)


def _raw(data: Mapping[str, object], expertise: str) -> str:
    return str(data.get("json", "{}"))


def advice_lines(data: Mapping[str, object]) -> list[str]:
    """'What to do next' with each recommendation's sentence, or why there is none."""
    advice = data.get("advice")
    if advice is None:
        if "advice" not in data:
            return []
        why = data.get("advice_error") or "the ledger could not be read"
        return [f"What to do next: no advice now ({why})."]
    items = [a for a in advice if isinstance(a, Mapping)] if isinstance(advice, list) else []
    if not items:
        return [
            "What to do next: nothing stands out (prices near comparables, no long-unsold listing)."
        ]
    return ["What to do next:", *(f"  - {a.get('text', '')}" for a in items)]


def _dashboard(data: Mapping[str, object], expertise: str) -> str:
    sources = list(data.get("sources") or [])  # type: ignore[call-overload]
    failed = sum(1 for src in sources if not src.get("ok"))
    head = f"Dashboard ({len(sources)} sources fetched concurrently"
    if data.get("total_ms") is not None:
        head += f" in {data['total_ms']} ms"
    lines = [head + (f"; {failed} failed):" if failed else "):")]
    for src in sources:
        if src.get("ok"):
            lines.append(
                f"  {src['source']:<17} {json.dumps(src.get('value'), default=str)}  ({src['ms']} ms)"
            )
        else:
            lines.append(
                f"  {src['source']:<17} FAILED: {src.get('error')} {src.get('hint', '')}"
                f"  ({src['ms']} ms)"
            )
    return "\n".join(lines + advice_lines(data))


def _market(data: Mapping[str, object], expertise: str) -> str:
    """Plain-text market analysis: prices by category, quality spread, the user's models."""
    a = data.get("analysis")
    if not isinstance(a, MarketAnalysis):
        return "Market analysis: no data."
    lines = [f"Market analysis ({a.total_listings} listing(s)):"]
    if not a.categories:
        lines.append("  No listings yet: yours would set the reference price.")
    for c in a.categories:
        lines.append(
            f"  {c.category:<16} {c.count:>3} listed  median {sui(c.median_price_mist)} "
            f"(range {sui(c.min_price_mist)}–{sui(c.max_price_mist)}), "
            f"median quality {c.median_quality}"
        )
    spread = ", ".join(f"{b.label}: {b.count}" for b in a.quality_buckets if b.count)
    if spread:
        lines.append(f"  Quality: {spread}")
    for m in a.owner_models:
        if m.category_count > 1:
            place = f"is cheaper than {m.cheaper_than_percent}% of the others in its category"
        else:
            place = "is the only listing in its category so far"
        lines.append(
            f"  Yours: {m.title} [{m.category}] at {sui(m.price_mist)} {place}; "
            f"quality rank {m.quality_rank} of {m.category_count}"
        )
    if a.owner is not None and not a.owner_models:
        lines.append("  You have no listings yet.")
    return "\n".join(lines + advice_lines(data))


def _abandoned(data: Mapping[str, object], expertise: str) -> str:
    name = str(data.get("file_name") or "the model")
    lines = [f"Cancelled: nothing more will be done for {name}."]
    if data.get("purchased"):
        lines.append(f"The purchase was already made (receipt {data['purchased']}).")
    if data.get("storage_paid"):
        stored = "stored on Walrus" if data.get("stored_whole") else "partly stored on Walrus"
        lines.append(
            f"Already done: the file was {stored}; its storage (about "
            f"{wal(data.get('cost_frost') or 0)}) is paid and is not refunded."
        )
    if data.get("model_id"):
        lines.append(f"It is registered on chain as {data['model_id']} (not listed).")
    if data.get("listing_id"):
        lines.append(f"It is listed as {data['listing_id']}.")
    if len(lines) == 1:
        lines.append("Nothing was paid.")
    lines.append("Say 'upload PATH' to start again.")
    return " ".join(lines)


def _exists_lines(data: Mapping[str, object]) -> list[str]:
    lines = []
    name = str(data.get("file_name") or "the model")
    if data.get("blobs"):
        lines.append(
            f"  stored: {data['blobs']} blob(s) for {name} (manifest {data.get('manifest_blob_id')})"
        )
    elif data.get("partial_upload"):
        lines.append(f"  stored: part of {name} (the finished chunks, kept for a resume)")
    if data.get("model_id"):
        lines.append(
            f"  on the ledger: pending model {data['model_id']}, "
            f"status {data.get('model_status', 'unknown')}"
        )
    if data.get("listing_id"):
        lines.append(f"  on the market: listing {data['listing_id']}")
    return lines


def _not_refunded(data: Mapping[str, object]) -> str:
    paid = int(str(data.get("cost_frost") or 0))
    storage = f"the storage (about {wal(paid)}) and " if paid else ""
    return f"Not refundable: {storage}the gas of the transactions already made."


def _what_exists(data: Mapping[str, object], expertise: str) -> str:
    lines = _exists_lines(data)
    if not lines:
        return "Nothing of this journey is stored or on the ledger."
    return "\n".join(["What exists now:", *lines, _not_refunded(data)])


def _cleanup_gate(data: Mapping[str, object], expertise: str) -> str:
    undo = []
    if data.get("withdrawable"):
        undo.append(f"withdraw pending model {data['model_id']} (marked withdrawn on the ledger)")
    if data.get("blobs") and data.get("deletable"):
        undo.append(f"delete the {data['blobs']} stored blob(s)")
    return f"Undo what can be undone: {' and '.join(undo)}? {_not_refunded(data)} (yes/no) [no]"


def _cleaned_up(data: Mapping[str, object], expertise: str) -> str:
    lines = []
    if data.get("withdrawn"):
        lines.append(f"Withdrawn: pending model {data['model_id']} now reads 'withdrawn'.")
    elif data.get("withdraw_error"):
        lines.append(f"Not withdrawn: {data['withdraw_error']} {data.get('withdraw_hint', '')}")
    if data.get("deleted") is not None:
        lines.append(f"Deleted {data['deleted']} of {data.get('blobs')} stored blob(s).")
    if data.get("kept_shared"):
        lines.append(
            f"Kept {data['kept_shared']}: another upload stores the same bytes "
            "(its model still needs them)."
        )
    if data.get("kept_unrecorded"):
        lines.append(
            f"Kept {data['kept_unrecorded']}: stored without a record of which uploads "
            "use them, so another upload may need them."
        )
    if data.get("already_gone"):
        lines.append(f"{data['already_gone']} were already gone.")
    if data.get("delete_error"):
        lines.append(f"Blobs not deleted: {data['delete_error']}")
    lines.append(_not_refunded(data))
    return " ".join(lines)


def _cleanup_declined(data: Mapping[str, object], expertise: str) -> str:
    return "OK, everything stays as it is: " + "; ".join(
        line.strip() for line in _exists_lines(data)
    )


def _clarify(data: Mapping[str, object], expertise: str) -> str:
    from agent.understanding.pipeline import describe

    choices = [str(c) for c in data.get("choices") or []]  # type: ignore[attr-defined]
    options = [f"{n}) {describe(c)}" for n, c in enumerate(choices, 1)]
    said = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else "".join(options)
    return (
        f"I'm not sure — did you mean {said}? "
        "Say the number, or put it another way ('help' lists what I can do)."
    )


def _paused(data: Mapping[str, object], expertise: str) -> str:
    step = str(data.get("step") or "a step")
    name = data.get("file_name")
    what = f"The {step} of {name}" if name else f"The step '{step}'"
    if data.get("debug"):
        return (
            f"Paused before '{step}' (debug mode). /step runs it (a question is always shown "
            "before it is answered), /continue runs on, /state shows the state; "
            "'cancel' abandons the journey."
        )
    return (
        f"{what} is stopped and waits for you: say 'resume' (or press Enter in the chat) to "
        "continue it; I stop again at the next question. Say 'cancel' to abandon it."
    )


_STEP_NAMES = {
    "assess": "assessment",
    "upload": "upload",
    "register": "registration on chain",
    "verify_submit": "verification submit",
    "verify_monitor": "verification",
    "listing_prep": "listing draft",
    "list_model": "listing",
    "purchase_execute": "purchase",
    "download_verify": "download",
    "bulk_upload": "bulk upload",
    "bulk_retry": "bulk retry",
    "bulk_list": "bulk listing",
    "bulk_plan": "bulk plan",
}


def step_name(node: object) -> str:
    """A journey step's node name in the user's words."""
    return _STEP_NAMES.get(str(node), str(node).replace("_", " "))


def _secs(value: object) -> str:
    if value is None:
        return "-"
    v = float(str(value))
    return f"{v:.2f} s" if v < 10 else human_duration(v)


def _bar(fraction: float, width: int = 20) -> str:
    filled = max(0, min(width, round(fraction * width)))
    return "█" * filled + "·" * (width - filled)


def render_insights(report: Mapping[str, Any]) -> str:
    """The insights report as words, a table and small bar charts (plain text)."""
    scope = "the platform" if report.get("scope") == "platform" else "your journeys"
    n = int(report.get("journeys") or 0)
    if not report.get("records"):
        return (
            f"Insights for {scope}: nothing recorded yet. Upload a model ('upload PATH') and "
            "I will show where it spends its time, where it fails and what it costs."
        )
    lines = [f"Insights for {scope} ({n} journey(s), {report['records']} recorded events):"]
    failures = list(report.get("failures") or [])
    if failures:
        top = failures[0]
        lines.append(
            f"Where journeys fail: most often at {step_name(top['step'])} "
            f"({top['code']}, {top['count']} time(s))."
        )
        for f in failures[:5]:
            lines.append(f"  {step_name(f['step']):<24} {f['code']:<22} {f['count']:>4}")
    else:
        lines.append("Where journeys fail: no failure recorded.")
    phases = list(report.get("phases") or [])
    if phases:
        lines.append("Success rate per phase:")
        for p in phases:
            rate = p.get("success_rate")
            shown = "-" if rate is None else f"{float(rate):.0%}"
            lines.append(
                f"  {p['phase']!s:<24} {_bar(float(rate or 0))} {shown:>5} "
                f"({p['ok']} ok, {p['failed']} failed)"
            )
    slowest = list(report.get("slowest") or [])
    if slowest:
        s = slowest[0]
        lines.append(
            f"Slowest step: {step_name(s['step'])}, median {_secs(s['median_s'])}, "
            f"p95 {_secs(s['p95_s'])} over {s['runs']} run(s)"
            + (
                f", {s['ratio_to_estimate']}× its estimate ({_secs(s['estimate_median_s'])})."
                if s.get("ratio_to_estimate") is not None
                else "."
            )
        )
        lines.append(f"  {'step':<24} {'runs':>4} {'median':>9} {'p95':>9} {'estimate':>9}")
        for s in slowest[:6]:
            lines.append(
                f"  {step_name(s['step']):<24} {s['runs']:>4} {_secs(s['median_s']):>9} "
                f"{_secs(s['p95_s']):>9} {_secs(s.get('estimate_median_s')):>9}"
            )
    u2l = report.get("upload_to_listing") or {}
    if u2l.get("count"):
        lines.append(
            f"Time from upload to listing: median {_secs(u2l['median_s'])}, "
            f"p95 {_secs(u2l['p95_s'])} ({u2l['count']} listed)."
        )
    retries = report.get("retries") or {}
    lines.append(
        f"Retries: {retries.get('attempts_beyond_first', 0)} extra attempt(s) of a step, "
        f"{retries.get('failed_calls', 0)} failed call(s) to storage, ledger or enclave."
    )
    money = list(report.get("money") or [])
    if money:
        spent = "; ".join(
            f"{m['phase']}: {wal(m['frost'])}" + (f" + {sui(m['mist'])}" if m["mist"] else "")
            for m in money
        )
        lines.append(f"Money spent per phase: {spent}.")
    slow_runs = list(report.get("slow_runs") or [])
    if slow_runs:
        r = slow_runs[-1]
        lines.append(
            f"Slow: {len(slow_runs)} run(s) ran past their deadline ({report.get('slow_factor')}× "
            f"the estimate, at least {_secs(report.get('slow_min_s'))}), the last "
            f"{step_name(r['step'])}"
            + (f" of {r['file_name']}" if r.get("file_name") else "")
            + f" ({_secs(r['duration_s'])} vs {_secs(r['estimate_s'])})."
        )
    return "\n".join(lines)


def _insights(data: Mapping[str, object], expertise: str) -> str:
    report = data.get("report")
    return render_insights(report if isinstance(report, Mapping) else {})


def _pending(data: Mapping[str, object], expertise: str) -> str:
    ops = [o for o in data.get("operations") or [] if isinstance(o, Mapping)]  # type: ignore[attr-defined]
    if not ops:
        return "Nothing is waiting in any of your conversations."
    current = data.get("current")
    lines = [f"Pending across your conversations ({len(ops)}):"]
    for o in ops:
        where = "here" if o.get("thread_id") == current else f"in {o.get('thread_id')}"
        how = str(o.get("how", ""))
        if o.get("thread_id") == current:
            how = how.split(" in conversation ")[0]
        fraction = o.get("fraction")
        done = f" {float(str(fraction)):.0%}" if fraction is not None else ""
        eta_s = o.get("eta_s")
        eta = f", ETA {human_duration(float(str(eta_s)))}" if eta_s is not None else ""
        lines.append(f"  • {where}: {o.get('what')}{done}{eta} — {how}")
    return "\n".join(lines)


_SPECIAL = {
    "pending_operations": _pending,
    "insights": _insights,
    "journey_abandoned": _abandoned,
    "what_exists": _what_exists,
    "cleanup_gate": _cleanup_gate,
    "cleaned_up": _cleaned_up,
    "cleanup_declined": _cleanup_declined,
    "paused": _paused,
    "clarify": _clarify,
    "faq": _faq,
    "status": _status,
    "raw_data": _raw,
    "dashboard": _dashboard,
    "market_analysis": _market,
}
