"""The local model's supervised process: start, health, crash diagnosis, restart.

The packaged GGUF never runs inside the app's process. A native crash (SIGSEGV in llama.cpp on
an unsupported CPU path), an out-of-memory kill or a hang must cost one answer, not the app: the
model is served by ``llama_cpp.server`` in a child process on a loopback port with a random API
key, and the app talks to it through the same OpenAI-compatible path as any remote server. The
child keeps one ``Llama`` object, so llama.cpp's longest-common-prefix reuse of the KV cache keeps
the system prompt read once across questions.

When the child is gone, :meth:`ModelProcess.ensure_running` starts a fresh one (next question).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


# PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process: a model
# started from the warm-up thread or from a Gradio worker thread (both end) was killed seconds
# later. Every model process is forked from this one thread, which lives as long as the app.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-spawner")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # the model process must not outlive the app (kill -9 of the app included)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    os.setsid()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_exit(returncode: int | None) -> str:
    """A negotiator-readable cause for a child's exit status (negative = killed by a signal)."""
    if returncode is None:
        return "il ne répond plus"
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        if sig == signal.SIGSEGV:
            return f"plantage natif ({name}) — processeur ou build de llama.cpp incompatible : lancez `rag doctor`"
        if sig == signal.SIGILL:
            return f"instruction processeur non prise en charge ({name}) : lancez `rag doctor`"
        if sig == signal.SIGKILL:
            return f"processus tué ({name}), souvent faute de mémoire"
        if sig == signal.SIGABRT:
            return f"arrêt anormal ({name})"
        return f"arrêté par {name}"
    return f"code de sortie {returncode}"


@dataclass(frozen=True)
class ServerSpec:
    """What to run: the command line of a process that serves ``/v1`` on ``port`` with ``api_key``."""

    build_argv: Callable[[int, str], Sequence[str]]
    name: str
    start_timeout_s: float = 90.0
    env: dict[str, str] | None = None  # the child's environment (None: this process's)
    variant: str = ""  # which llama.cpp build serves it (avx2, avx512), when known


# the llama.cpp builds `make install` may leave, best first, with the CPU flags each one needs;
# the avx2 build installed in the venv itself is the fallback every x86-64 CPU since 2013 runs
LLAMA_VARIANTS = (("avx512", frozenset({"avx2", "fma", "f16c", "bmi2", "avx512f", "avx512vbmi", "avx512_vnni", "avx512_bf16"})),)
VARIANTS_DIR = Path(sys.prefix) / "llama-variants"


def llama_variant(cpu_flags: set[str] | None = None, variants_dir: Path | None = None, wanted: str = "auto") -> tuple[str, Path | None]:
    """(name, folder to put first on the child's PYTHONPATH) of the fastest build this CPU runs;
    ("avx2", None) is the one installed in the venv."""
    if wanted == "avx2":
        return "avx2", None
    flags = cpu_description()[1] if cpu_flags is None else cpu_flags
    folder = variants_dir or VARIANTS_DIR
    for name, needs in LLAMA_VARIANTS:
        path = folder / name
        if (wanted in ("auto", name)) and needs <= flags and (path / "llama_cpp").is_dir():
            return name, path
    return "avx2", None


def _child_env(pythonpath: Path | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def llama_server_spec(model_path: Path, n_ctx: int, threads: int, variant: str = "auto") -> ServerSpec:
    """``llama_cpp.server`` over one GGUF file, loopback only, with the fastest build this CPU runs."""
    name, pythonpath = llama_variant(wanted=variant)

    def argv(port: int, api_key: str) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1",
            "--port", str(port), f"--api_key={api_key}", "--n_ctx", str(n_ctx), "--n_threads", str(threads),
            "--n_threads_batch", str(threads), "--seed", "0", "--verbose", "False", "--model_alias", "local",
        ]

    return ServerSpec(argv, f"local:{model_path.name} ({name})", env=_child_env(pythonpath), variant=name)


def command_server_spec(command: Sequence[str], model_path: Path | None, name: str) -> ServerSpec:
    """A configured command line (``RAG_LOCAL_SERVER_COMMAND``) with {port}, {api_key}, {model} filled in."""

    def argv(port: int, api_key: str) -> list[str]:
        values = {"port": str(port), "api_key": api_key, "model": str(model_path or "")}
        return [part.format(**values) for part in command]

    return ServerSpec(argv, name)


def local_server_spec(settings, model_path: Path | None) -> ServerSpec:
    """The server the settings ask for: a configured command, else llama_cpp.server over the GGUF."""
    if settings.local_server_command:
        return command_server_spec(settings.local_server_command, model_path, f"local:{Path(settings.local_server_command[0]).name}")
    assert model_path is not None
    return llama_server_spec(model_path, settings.llm_ctx, settings.llm_threads, settings.llm_cpu_variant)


def stop_process(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Stop a child: SIGTERM, ``grace_s`` to exit, then SIGKILL (nothing to do if it has ended)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace_s)


class ModelProcess:
    """One supervised model server; thread-safe; restarts on demand after a crash."""

    def __init__(self, spec: ServerSpec, log_dir: Path | None = None):
        self.spec = spec
        # hex, never a leading "-": argparse took a urlsafe key such as "-Xb3…" for an option, and one
        # start in 64 failed with exit code 2 (llama_server_spec also writes it as --api_key=…)
        self.api_key = secrets.token_hex(24)
        self.log_dir = log_dir
        self._proc: subprocess.Popen | None = None
        self._port = 0
        self._lock = threading.RLock()
        self.starts = 0
        self.last_exit: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        """The exit status of the running process if it has just ended, else None (running or never started)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None:
                self.last_exit = self._proc.returncode
                return self.last_exit
            return None

    def ensure_running(self) -> str:
        """Start the server if it is not running; return its base URL once it answers."""
        from rag.models import ModelCrashed, ModelUnreachable

        with self._lock:
            if self.alive():
                return self.base_url
            if self._proc is not None:
                self.last_exit = self._proc.returncode
                log.warning("model process %s ended (%s): restarting", self._proc.pid, describe_exit(self.last_exit))
                self._proc = None
            self._port = free_port()
            stderr = self._log_file()
            self._proc = _SPAWNER.submit(
                subprocess.Popen, list(self.spec.build_argv(self._port, self.api_key)), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=_die_with_parent,
                env=self.spec.env or {**os.environ, "PYTHONUNBUFFERED": "1"},
            ).result()
            if stderr not in (None, subprocess.DEVNULL):
                stderr.close()
            self.starts += 1
            deadline = time.monotonic() + self.spec.start_timeout_s
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    code = self._proc.returncode
                    self.last_exit = code
                    self._proc = None
                    raise ModelCrashed(f"le modèle local n'a pas pu démarrer ({describe_exit(code)}).{self._log_hint()}")
                try:
                    r = httpx.get(f"{self.base_url}/models", headers={"Authorization": f"Bearer {self.api_key}"}, timeout=1.0)
                    if r.status_code == 200:
                        return self.base_url
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            self.stop()
            raise ModelUnreachable(f"le modèle local n'a pas démarré en {self.spec.start_timeout_s:.0f} s.{self._log_hint()}")

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                stop_process(proc, grace_s=5.0)

    def _log_file(self):
        if self.log_dir is None:
            return subprocess.DEVNULL
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            return open(self.log_dir / "model-server.log", "ab")
        except OSError:
            return subprocess.DEVNULL

    def _log_hint(self) -> str:
        return f" Journal : {self.log_dir / 'model-server.log'}" if self.log_dir else ""


# ---- diagnosis (rag doctor, rag setup --check) ---------------------------------------------------

# build features that llama_print_system_info() names, and the /proc/cpuinfo flag each one needs
BUILD_FEATURE_FLAGS = {
    "SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2",
    "AVX_VNNI": "avx_vnni", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8",
}
# what a portable build must not contain: AMX crashes on Sapphire Rapids, AVX-512 is absent from
# most laptops (and from Intel's client CPUs since Alder Lake)
FORBIDDEN_BUILD_FEATURES = ("AMX_INT8", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI")
# what the avx512 variant may contain (never AMX)
VARIANT_FEATURES = {"avx2": frozenset(), "avx512": frozenset({"AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"})}


def cpu_description() -> tuple[str, set[str]]:
    """(CPU model name, its feature flags) from /proc/cpuinfo; empty where it cannot be read."""
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return model, flags


def parse_system_info(info: str) -> dict[str, bool]:
    """``"CPU : SSE3 = 1 | AVX2 = 1 | …"`` → {"SSE3": True, "AVX2": True, …}."""
    out: dict[str, bool] = {}
    for part in info.replace("\n", "|").split("|"):
        name, eq, value = part.rpartition("=")
        if not eq:
            continue
        name = name.split(":")[-1].strip()
        if name:
            out[name] = value.strip() == "1"
    return out


def llama_system_info(timeout_s: float = 60.0, pythonpath: Path | None = None) -> str:
    """llama.cpp's own report of a build (the venv's, or the variant at ``pythonpath``), read in a
    child (an import that crashes stays there)."""
    code = "import llama_cpp, sys; sys.stdout.write(llama_cpp.llama_print_system_info().decode())"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s, env=_child_env(pythonpath))
    except subprocess.TimeoutExpired:
        return ""
    if done.returncode != 0:
        raise RuntimeError(f"llama-cpp-python ne se charge pas ({describe_exit(done.returncode)}) : {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def build_problems(features: dict[str, bool], cpu_flags: set[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """What makes a build unsafe here or elsewhere: forbidden features (``allowed`` lifts some, for a
    variant chosen at run time only on CPUs that have them), instructions this CPU lacks."""
    problems = [f"{name} compilé (build non portable)" for name in FORBIDDEN_BUILD_FEATURES if features.get(name) and name not in allowed]
    if cpu_flags:
        problems += [f"{name} compilé mais absent de ce processeur" for name, flag in BUILD_FEATURE_FLAGS.items()
                     if features.get(name) and flag not in cpu_flags and name not in FORBIDDEN_BUILD_FEATURES]
    return problems


CHECK_PROMPT = (
    "Voici un extrait du Code du travail marocain. Article 184 : dans les activités non agricoles, la durée "
    "normale du travail des salariés est fixée à 2288 heures par année ou 44 heures par semaine. La durée annuelle "
    "globale peut être répartie sur l'année selon les besoins de l'entreprise, à condition que la durée normale "
    "du travail n'excède pas dix heures par jour. Question : combien d'heures par semaine ? Réponds en une phrase."
)


@dataclass
class GenerationCheck:
    ok: bool
    message: str
    seconds: float = 0.0
    text: str = ""


def check_generation(process: ModelProcess, timeout_s: float = 120.0) -> GenerationCheck:
    """One real generation (~100-token prompt) through the supervised server; never raises."""
    from rag.models import ModelUnavailable

    started = time.monotonic()
    try:
        base_url = process.ensure_running()
        r = httpx.post(
            f"{base_url}/chat/completions", headers={"Authorization": f"Bearer {process.api_key}"}, timeout=timeout_s,
            json={"model": "local", "messages": [{"role": "user", "content": CHECK_PROMPT}], "max_tokens": 16,
                  "temperature": 0.0, "repeat_penalty": 1.0},
        )
        r.raise_for_status()
        text = r.json()["choices"][0]["message"]["content"] or ""
        if not text.strip():
            return GenerationCheck(False, "le modèle a répondu un texte vide", time.monotonic() - started)
        return GenerationCheck(True, "génération réussie", time.monotonic() - started, text.strip())
    except (ModelUnavailable, httpx.HTTPError, KeyError, ValueError) as exc:
        code = process.exit_code()
        cause = describe_exit(code) if code is not None else str(exc) or type(exc).__name__
        return GenerationCheck(False, f"échec de la génération : {cause}", time.monotonic() - started)
    finally:
        process.stop()
