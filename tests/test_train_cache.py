"""The model cache is keyed by a hash of everything that shapes the model."""
import shutil

from bot.config import ROOT, Settings
from bot.nlu.train import inputs_hash, model_path, sync_generated


def copy_project(tmp_path) -> Settings:
    shutil.copytree(ROOT / "nlu", tmp_path / "nlu", ignore=shutil.ignore_patterns("models"))
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "requirements" / "nlu.lock", tmp_path / "requirements" / "nlu.lock")
    return Settings(root=tmp_path, nlu_project=tmp_path / "nlu", models_dir=tmp_path / "models")


def test_hash_changes_with_data_config_and_country_list(tmp_path):
    settings = copy_project(tmp_path)
    first = inputs_hash(settings)
    assert inputs_hash(settings) == first  # stable
    data = settings.nlu_project / "data" / "en" / "greet.yml"
    data.write_text(data.read_text() + "    - howdy partner\n")
    second = inputs_hash(settings)
    assert second != first
    config = settings.nlu_project / "config.yml"
    config.write_text(config.read_text().replace("epochs: ", "epochs: 1"))
    third = inputs_hash(settings)
    assert third != second
    countries = settings.nlu_project / "entities" / "countries.txt"
    countries.write_text(countries.read_text() + "Narnia | narnia | نارنیا\n")
    assert sync_generated(settings) is True
    assert "- synonym: Narnia" in (settings.nlu_project / "data" / "entities" / "countries.yml").read_text()
    assert inputs_hash(settings) != third
    assert sync_generated(settings) is False  # idempotent
    assert model_path(settings).name == f"nlu-{inputs_hash(settings)}.tar.gz"


def test_heldout_and_models_do_not_change_the_hash(tmp_path):
    settings = copy_project(tmp_path)
    first = inputs_hash(settings)
    (settings.nlu_project / "heldout" / "extra.tsv").write_text("lang\tintent\ttext\nen\tgreet\thi there\n")
    assert inputs_hash(settings) == first
