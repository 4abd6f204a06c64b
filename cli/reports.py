"""How each command's report is printed (as text, or as JSON with --json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, emit_table

if TYPE_CHECKING:
    from embedstore.query.diff import VersionDiff
    from embedstore.query.evaluate import Evaluation
    from embedstore.schema import VersionRecord
    from embedstore.store import Alias, AliasChange
    from embedstore.store.registry import CollectedGarbage, VerifyReport


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _time(iso: str) -> str:
    return iso[:19].replace("T", " ")


def emit_evaluation(evaluation: Evaluation, as_json: bool) -> None:
    if as_json:
        emit_json(evaluation.to_json())
        return
    report: Any = evaluation.report
    if evaluation.kind == "analogies":
        emit_table([(s.section, f"{s.correct}/{s.scored}",
                     "-" if s.accuracy is None else f"{s.accuracy:.3f}") for s in report.sections],
                   header=("section", "correct", "accuracy"))
        overall = "-" if report.accuracy is None else f"{report.accuracy:.4f}"
        click.echo(f"overall: {report.correct}/{report.scored} correct, accuracy {overall}, "
                   f"{report.skipped} questions skipped")
        return
    spearman = "-" if report.spearman is None else f"{report.spearman:.4f}"
    pearson = "-" if report.pearson is None else f"{report.pearson:.4f}"
    click.echo(f"spearman {spearman}, pearson {pearson}, {report.pairs} pairs used, "
               f"{report.skipped} skipped")


def emit_versions(listing: list[tuple[VersionRecord, list[str]]], as_json: bool) -> None:
    if as_json:
        from embedstore.query.results import versions_json

        emit_json(versions_json(listing))
        return
    emit_table(
        [(str(r.version), ",".join(names) or "-", r.name or "-",
          r.created.strftime("%Y-%m-%d %H:%M:%S"), str(r.n_items), str(r.dim),
          Path(r.source.path).name if r.source else "-") for r, names in listing],
        header=("version", "aliases", "name", "created (UTC)", "items", "dim", "source"),
    )


def emit_info(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    click.echo(f"store: {report['store']}")
    if report["version"] is None:
        click.echo(f"models: {', '.join(report['models']) or 'none yet'}")
        return
    index = report.get("index")
    emit_table([(key, _flat(value)) for key, value in report["version"].items()]
               + [("index", _flat(index) if index is not None else "none")])


def emit_aliases(rows: list[Alias] | list[AliasChange], history: bool, as_json: bool) -> None:
    if as_json:
        emit_json([asdict(row) for row in rows])
    elif history:
        emit_table([(_time(c.changed), c.name, _or_dash(c.previous), _or_dash(c.version))
                    for c in rows], header=("changed (UTC)", "alias", "from", "to"))
    else:
        emit_table([(a.name, str(a.version), _time(a.updated)) for a in rows],
                   header=("alias", "version", "updated (UTC)"))


def emit_garbage(collected: CollectedGarbage, as_json: bool) -> None:
    if as_json:
        emit_json({"removed": collected.paths, "bytes": collected.bytes})
        return
    for path in collected.paths:
        click.echo(f"removed {path}")
    click.echo(f"freed {collected.bytes} bytes in {len(collected.paths)} path(s)")


def emit_verification(reports: list[VerifyReport], as_json: bool) -> None:
    if as_json:
        emit_json([{**asdict(r), "ok": r.ok} for r in reports])
        return
    for report in reports:
        state = "ok" if report.ok else "DAMAGED: " + "; ".join(report.problems)
        click.echo(f"{report.model} version {report.version}: {state}")


def emit_diff(report: VersionDiff, as_json: bool) -> None:
    if as_json:
        emit_json(asdict(report))
        return
    click.echo(f"{report.model}: version {report.old} -> {report.new}")
    click.echo(f"items: {report.shared} shared, {report.added} added, {report.removed} removed")
    if report.added_examples:
        click.echo(f"added: {', '.join(report.added_examples)}")
    if report.removed_examples:
        click.echo(f"removed: {', '.join(report.removed_examples)}")
    if report.mean_overlap is not None:
        click.echo(f"top-{report.k} neighbour overlap over {report.sampled} shared items: "
                   f"mean {report.mean_overlap:.3f}")
        click.echo("moved most:")
        emit_table([(shift.item, f"{shift.overlap:.2f}") for shift in report.moved_most])


def emit_batch_line(answer: dict[str, Any]) -> None:
    """One JSON line of ``embed batch`` (an id holding a lone surrogate is escaped)."""
    line = json.dumps(answer, ensure_ascii=False)
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(answer)
    click.echo(line)


def _flat(value: Any) -> str:
    if isinstance(value, list) and len(value) > 6:
        head = " ".join(_flat(v) for v in value[:3])
        return f"{head} ... {_flat(value[-1])} ({len(value)} values)"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(_flat(v) for v in value)
    return str(value)
