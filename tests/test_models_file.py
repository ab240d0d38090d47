"""Where models.yaml comes from: the configured file, ./models.yaml, then the packaged copy."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from summarizer import profiles
from summarizer.profiles import PACKAGED_MODELS_FILE, ProfileError, find_models_file, load_models_config

REPO = Path(__file__).resolve().parent.parent
ONE_PROFILE = "default: local\nprofiles:\n  local:\n    kind: seq2seq\n    model: ./weights\n"


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A config folder with its own models.yaml and an empty working directory."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "models.yaml").write_text(ONE_PROFILE, encoding="utf-8")
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    return tmp_path


def test_configured_file_comes_first(folders):
    (folders / "run" / "models.yaml").write_text(ONE_PROFILE, encoding="utf-8")
    configured = folders / "config" / "models.yaml"
    assert find_models_file(configured, explicit=True) == (configured, "configured")
    assert find_models_file(configured, explicit=False) == (configured, "config folder")


def test_a_missing_explicit_file_is_an_error(folders):
    (folders / "run" / "models.yaml").write_text(ONE_PROFILE, encoding="utf-8")
    with pytest.raises(ProfileError, match="other.yaml: models file does not exist"):
        find_models_file(folders / "config" / "other.yaml", explicit=True)


def test_then_the_working_directory(folders):
    (folders / "run" / "models.yaml").write_text(ONE_PROFILE, encoding="utf-8")
    local = folders / "run" / "models.yaml"
    assert find_models_file(folders / "elsewhere" / "models.yaml", explicit=False) == (local, "working directory")
    assert find_models_file(None, explicit=False) == (local, "working directory")
    assert find_models_file(Path("models.yaml"), explicit=False) == (local, "working directory")  # no config file


def test_then_the_packaged_copy(folders, monkeypatch):
    assert find_models_file(folders / "elsewhere" / "models.yaml", explicit=False) == (PACKAGED_MODELS_FILE, "packaged")
    assert find_models_file(None, explicit=False) == (PACKAGED_MODELS_FILE, "packaged")
    config = load_models_config(PACKAGED_MODELS_FILE)
    assert config.route("zh-Hant") == "mt5-xlsum" and "qwen-instruct" in config.profiles
    monkeypatch.setattr(profiles, "PACKAGED_MODELS_FILE", folders / "not-installed" / "models.yaml")
    assert find_models_file(None, explicit=False) == (None, "built in")


def test_the_packaged_copy_is_the_top_level_file():
    packaged = REPO / "summarizer" / "models.yaml"
    assert packaged == PACKAGED_MODELS_FILE
    assert os.readlink(packaged) == "../models.yaml"  # one source of truth
    assert packaged.read_bytes() == (REPO / "models.yaml").read_bytes()


def test_relative_model_folders_in_the_packaged_copy_come_from_the_working_directory(folders, monkeypatch):
    package = folders / "site-packages" / "summarizer"
    package.mkdir(parents=True)
    (package / "models.yaml").write_text(ONE_PROFILE, encoding="utf-8")
    monkeypatch.setattr(profiles, "PACKAGED_MODELS_FILE", package / "models.yaml")
    assert load_models_config(package / "models.yaml").profiles["local"].model == str(folders / "run" / "weights")
    config_folder = load_models_config(folders / "config" / "models.yaml")
    assert config_folder.profiles["local"].model == str(folders / "config" / "weights")


@pytest.mark.slow  # builds the wheel in a process: `pytest -m "not slow"` leaves it out
def test_the_wheel_carries_models_yaml(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "models.yaml"):
        shutil.copy(REPO / name, source / name)
    for package in ("bot", "summarizer"):  # the symlink is copied as a symlink
        shutil.copytree(REPO / package, source / package, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    assert (source / "summarizer" / "models.yaml").is_symlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "wheel"),
                    str(source)], check=True, capture_output=True, timeout=120)
    [wheel] = (tmp_path / "wheel").glob("newsbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("summarizer/models.yaml") == (REPO / "models.yaml").read_bytes()
