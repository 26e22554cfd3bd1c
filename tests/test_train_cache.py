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


def test_the_pointer_decides_after_a_promotion_and_a_branch_keeps_its_own_model(tmp_path):
    """nlu/models/active.json (bot/nlu/train.py): `nlu train`'s pointer serves only its own inputs (worktrees
    share nlu/models); a promotion's or a rollback's is served whatever the data, and `make setup` does
    not train behind it."""
    import io
    from dataclasses import replace

    from bot.nlu.train import current_langid, current_model, train, write_active

    settings = replace(copy_project(tmp_path), nlu_venv=tmp_path / "no-venv")  # training would fail loudly
    settings.models_dir.mkdir()
    mine = model_path(settings)
    mine.write_bytes(b"model of these inputs")
    assert current_model(settings) == mine  # no pointer: as before
    other = settings.models_dir / "nlu-0000000000000000.tar.gz"
    other.write_bytes(b"another branch's model")
    write_active(settings, {"model": other.name, "langid": "langid-0000000000000000.json", "inputs": "0" * 16,
                            "source": "train"})
    assert current_model(settings) == mine and current_langid(settings).name == f"langid-{inputs_hash(settings)}.json"
    promoted = settings.models_dir / f"nlu-{'1' * 16}-r7.tar.gz"
    promoted.write_bytes(b"finetuned and tested")
    write_active(settings, {"model": promoted.name, "langid": f"langid-{'1' * 16}-r7.json", "inputs": "1" * 16,
                            "source": "promote"})
    assert current_model(settings) == promoted and current_langid(settings).name == f"langid-{'1' * 16}-r7.json"
    out = io.StringIO()
    assert train(settings, if_needed=True, out=out) == promoted  # no training (there is no NLU env here)
    assert "nlu retrain" in out.getvalue()
    promoted.unlink()  # a pointer to a file that is gone is ignored
    assert current_model(settings) == mine
