"""The local model runs in a supervised child process: a crash costs one answer, never the app.

The crash path is real: a small OpenAI-compatible server (tests/fake_model_server.py) runs as a
child process and kills itself with SIGSEGV or SIGKILL in the middle of an answer, or hangs.
The slow tests do the same to the real llama_cpp.server with the packaged 0.5B model.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answer import Answer, ChatEngine, Delta
from rag.models import LocalChatModel, ModelCrashed
from rag.runtime import (FORBIDDEN_BUILD_FEATURES, ModelProcess, build_problems, command_server_spec, cpu_description,
                         describe_exit, llama_system_info, parse_system_info)
from rag.settings import PROJECT_ROOT
from tests.conftest import LAW

FAKE_SERVER = PROJECT_ROOT / "tests" / "fake_model_server.py"


def fake_command(script: Path) -> list[str]:
    return [sys.executable, str(FAKE_SERVER), "{port}", "{api_key}", str(script)]


def starts(script: Path) -> list[str]:
    path = Path(str(script) + ".starts")
    return path.read_text().split("\n")[:-1] if path.exists() else []


@pytest.fixture
def law_engine(engine, tmp_path):
    path = tmp_path / "loi_test.md"
    path.write_text(LAW, encoding="utf-8")
    engine.index.index_paths([path], isolated=False)
    return engine


def supervised(settings, script: Path, behaviours: list[str]) -> LocalChatModel:
    script.write_text("\n".join(behaviours) + "\n")
    settings.local_server_command = fake_command(script)
    return LocalChatModel(settings)


@pytest.mark.parametrize("behaviour, cause", [("segv", "SIGSEGV"), ("kill", "SIGKILL")])
def test_model_process_dying_mid_answer_gives_a_clear_message_and_the_next_question_works(law_engine, tmp_path, behaviour, cause):
    script = tmp_path / "behaviour"
    model = supervised(law_engine.settings, script, [behaviour, "ok"])
    chat = ChatEngine(law_engine.retriever, model, law_engine.settings)
    try:
        events = list(chat.stream("Quelle est la durée normale du travail par semaine ?"))
        first = events[-1]
        assert isinstance(first, Answer) and first.partial
        assert any(isinstance(e, Delta) for e in events)  # it had started answering
        assert "le modèle local s'est arrêté" in first.text and cause in first.text
        assert "redémarrera" in first.text
        pid_before = model.process.pid

        second = chat.ask("Quelle est la durée normale du travail par semaine ?")
        assert not second.partial and "44 heures" in second.text
        assert second.citations and second.citations[0].article == "184"
        assert model.process.pid != pid_before and len(starts(script)) == 2
    finally:
        model.close()


def test_hung_model_is_replaced_after_the_timeout(law_engine, tmp_path):
    law_engine.settings.llm_timeout_s = 1.5
    script = tmp_path / "behaviour"
    model = supervised(law_engine.settings, script, ["hang", "ok"])
    chat = ChatEngine(law_engine.retriever, model, law_engine.settings)
    try:
        started = time.monotonic()
        first = chat.ask("Quelle est la durée normale du travail par semaine ?")
        assert first.partial and "ne répond plus" in first.text
        assert time.monotonic() - started < 20
        hung_pid = model.process.pid
        second = chat.ask("Quelle est la durée normale du travail par semaine ?")
        assert "44 heures" in second.text and not second.partial
        assert model.process.pid != hung_pid
    finally:
        model.close()


def test_model_that_cannot_start_is_reported_with_its_cause(settings, tmp_path):
    settings.local_server_command = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "{port}"]
    model = LocalChatModel(settings)
    with pytest.raises(ModelCrashed, match="SIGSEGV"):
        list(model.stream([{"role": "user", "content": "bonjour"}]))


def test_describe_exit_names_the_signal():
    assert "SIGSEGV" in describe_exit(-signal.SIGSEGV) and "rag doctor" in describe_exit(-signal.SIGSEGV)
    assert "mémoire" in describe_exit(-signal.SIGKILL)
    assert "SIGILL" in describe_exit(-signal.SIGILL)
    assert describe_exit(3) == "code de sortie 3"


def test_model_process_dies_with_its_parent(tmp_path):
    """kill -9 of the app must not leave a model server holding 2 GB behind."""
    script = tmp_path / "behaviour"
    script.write_text("ok\n")
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from rag.runtime import ModelProcess, command_server_spec\n"
        "p = ModelProcess(command_server_spec(%r, None, 'fake'))\n"
        "p.ensure_running(); print(p.pid, flush=True); time.sleep(60)\n"
    ) % (str(PROJECT_ROOT), fake_command(script))
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    for _ in range(100):
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the model process outlived its parent")


def test_model_started_from_a_thread_that_ends_keeps_running(tmp_path):
    """The warm-up thread and Gradio's worker threads end; the model they started must not die
    with them (the parent-death signal is tied to the forking thread, not to the process)."""
    script = tmp_path / "behaviour"
    script.write_text("ok\n")
    process = ModelProcess(command_server_spec(fake_command(script), None, "fake"))
    starter = threading.Thread(target=process.ensure_running)
    starter.start()
    starter.join(timeout=60)
    try:
        assert not starter.is_alive() and process.alive()
        time.sleep(1.0)  # the signal would have come at once
        assert process.alive() and process.exit_code() is None
    finally:
        process.stop()


def test_web_chat_survives_a_model_crash_and_keeps_the_conversation(law_engine, tmp_path):
    from rag.web import Handlers
    from tests.test_ui import req

    script = tmp_path / "behaviour"
    law_engine._chat = supervised(law_engine.settings, script, ["segv", "ok"])
    ui = Handlers(law_engine, law_engine.settings)
    try:
        outs = list(ui.chat.chat_submit("Quelle est la durée normale du travail par semaine ?", None, None, None, None, req("alice")))
        final = outs[-1]
        text = json.dumps(final, ensure_ascii=False, default=str)
        assert "le modèle local s'est arrêté" in text
        outs = list(ui.chat.chat_submit("Et la durée normale du travail par semaine ?", None, None, None, None, req("alice")))
        assert "44 heures" in json.dumps(outs[-1], ensure_ascii=False, default=str)
        # both turns are saved in alice's workspace
        saved = ui.chat.workspace(req("alice")).list_conversations()
        assert saved
    finally:
        law_engine.close()


def test_rag_ask_and_draft_exit_non_zero_with_the_message_never_a_core_dump(tmp_path, monkeypatch):
    from rag.cli import app

    script = tmp_path / "behaviour"
    script.write_text("segv\nsegv\nsegv\n")
    corpus = tmp_path / "loi_test.md"
    corpus.write_text(LAW + "\n### Article 350\nTout salarié bénéficie d'une prime d'ancienneté dont le montant est fixé à 5 % "
                      "du salaire versé, après deux ans de service.\n", encoding="utf-8")
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "users"))
    monkeypatch.setenv("RAG_CORPUS_DIRS", "[]")
    monkeypatch.setenv("RAG_MIN_SIMILARITY", "0.5")
    monkeypatch.setenv("RAG_LOCAL_SERVER_COMMAND", json.dumps(fake_command(script)))
    runner = CliRunner()
    assert runner.invoke(app, ["index", str(corpus)]).exit_code == 0
    result = runner.invoke(app, ["ask", "Quelle est la durée normale du travail par semaine dans les activités non agricoles ?"])
    assert result.exit_code == 3, result.output
    assert "le modèle local s'est arrêté" in result.output and "SIGSEGV" in result.output
    result = runner.invoke(app, ["draft", "--topic", "prime_anciennete"])
    assert result.exit_code == 3, result.output
    assert "Exposé des motifs indisponible" in result.output and "SIGSEGV" in result.output
    assert "Article" in result.output or "ancienneté" in result.output  # the template clause is still printed


def test_build_problems_flags_amx_avx512_and_instructions_the_cpu_lacks():
    assert build_problems({"AVX2": True, "FMA": True}, {"avx2", "fma"}) == []
    assert any("AMX_INT8" in p for p in build_problems({"AVX2": True, "AMX_INT8": True}, {"avx2", "amx_int8"}))
    assert any("AVX512" in p for p in build_problems({"AVX512": True}, {"avx512f"}))
    assert any("absent" in p for p in build_problems({"AVX2": True}, {"sse2"}))
    assert parse_system_info("CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 0 | REPACK = 1 |") == {
        "SSE3": True, "AVX2": True, "AMX_INT8": False, "REPACK": True}


def test_installed_llama_cpp_is_the_portable_build():
    """What `make install` built: AVX2 kernels with the CPU repack buffers, no AMX, no AVX-512,
    nothing this CPU lacks (read from llama.cpp's own report, in a child process)."""
    info = llama_system_info()
    features = parse_system_info(info)
    assert features.get("AVX2") and features.get("FMA") and features.get("REPACK"), info
    assert not [name for name in FORBIDDEN_BUILD_FEATURES if features.get(name)], info
    assert "AMX" not in info.replace("AMX_INT8 = 0", "")
    _, flags = cpu_description()
    assert build_problems(features, flags) == [], info


def test_llama_server_reads_every_api_key_even_one_that_looks_like_an_option(tmp_path):
    """One model start in 64 failed with exit code 2: argparse read a key such as "-Xb3…" as an
    option. The argv is parsed here by llama_cpp.server's own parser."""
    import argparse

    from llama_cpp.server.cli import add_args_from_model
    from llama_cpp.server.settings import Settings as ServerCliSettings

    from rag.runtime import llama_server_spec

    parser = argparse.ArgumentParser()
    add_args_from_model(parser, ServerCliSettings)
    argv = list(llama_server_spec(tmp_path / "m.gguf", 1024, 2).build_argv(8080, "-Xb3_key"))
    assert argv[1:3] == ["-m", "llama_cpp.server"]
    assert parser.parse_args(argv[3:]).api_key == "-Xb3_key"
    keys = {ModelProcess(command_server_spec(["x"], None, "x")).api_key for _ in range(200)}
    assert len(keys) == 200 and not any(key.startswith("-") for key in keys)


# ---- the real model server --------------------------------------------------------------------

@pytest.mark.slow
def test_real_llama_server_killed_mid_answer_then_restarted(settings):
    from rag.offline import ensure_model
    from rag.runtime import llama_server_spec

    path = ensure_model(settings.models_dir, "qwen0.5b")
    settings.llm_max_tokens = 60
    model = LocalChatModel(settings, process=ModelProcess(llama_server_spec(path, 1024, 2)))
    messages = [{"role": "user", "content": "Écris dix phrases sur la négociation collective."}]
    try:
        pieces = []
        with pytest.raises(ModelCrashed, match="SIGKILL"):
            for piece in model.stream(messages):
                pieces.append(piece)
                if len(pieces) == 3:
                    os.kill(model.process.pid, signal.SIGKILL)
        assert len(pieces) >= 3
        again = "".join(model.stream([{"role": "user", "content": "Dis bonjour en un mot."}], max_tokens=8))
        assert again.strip()
        assert model.process.starts == 2
    finally:
        model.close()


@pytest.mark.slow
def test_doctor_reports_cpu_build_and_a_real_generation(monkeypatch, tmp_path):
    from rag.cli import app

    monkeypatch.setenv("RAG_LOCAL_MODEL", "qwen0.5b")
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "processeur :" in result.output and "AVX2 = 1" in result.output
    assert "✔ génération réussie" in result.output
    assert "OCR (textes scannés)" in result.output
    assert "textes indexés : aucun texte" in result.output and "manque : Code du travail" in result.output


def test_doctor_fails_when_the_model_crashes(monkeypatch, tmp_path):
    from rag.cli import app

    script = tmp_path / "behaviour"
    script.write_text("segv\n")
    monkeypatch.setenv("RAG_LOCAL_SERVER_COMMAND", json.dumps([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "{port}"]))
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "✘" in result.output and "SIGSEGV" in result.output


def test_the_fastest_build_the_cpu_runs_is_chosen(tmp_path):
    from rag.runtime import llama_variant

    (tmp_path / "avx512" / "llama_cpp").mkdir(parents=True)
    zen4 = {"avx2", "fma", "f16c", "bmi2", "avx512f", "avx512vbmi", "avx512_vnni", "avx512_bf16"}
    assert llama_variant(zen4, tmp_path) == ("avx512", tmp_path / "avx512")
    assert llama_variant(zen4 | {"amx_int8", "amx_tile"}, tmp_path)[0] == "avx512"  # Sapphire Rapids: no AMX in any build
    assert llama_variant({"avx2", "fma", "f16c", "bmi2"}, tmp_path) == ("avx2", None)  # a laptop without AVX-512
    assert llama_variant(zen4 - {"avx512_bf16"}, tmp_path) == ("avx2", None)
    assert llama_variant(zen4, tmp_path, wanted="avx2") == ("avx2", None)
    assert llama_variant(zen4, tmp_path / "absent") == ("avx2", None)


def test_installed_avx512_variant_has_no_amx():
    from rag.runtime import VARIANT_FEATURES, VARIANTS_DIR

    path = VARIANTS_DIR / "avx512"
    if not (path / "llama_cpp").is_dir():
        pytest.skip("no avx512 build here (make install builds it only on a CPU with AVX-512 VNNI/BF16)")
    info = llama_system_info(pythonpath=path)
    features = parse_system_info(info)
    assert features.get("AVX512") and features.get("AVX512_VNNI") and features.get("REPACK"), info
    assert not features.get("AMX_INT8"), info
    _, flags = cpu_description()
    assert build_problems(features, flags, VARIANT_FEATURES["avx512"]) == [], info
