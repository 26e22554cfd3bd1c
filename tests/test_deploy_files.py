"""docker-compose.yml and the Dockerfile stay consistent with the code (no Docker engine runs here, so
the files are checked for what can be checked without one)."""
import yaml

from bot.config import ROOT


def test_compose_has_the_services_with_health_checks_and_ordering():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "rasa", "migrate", "bot", "console"} <= set(services)
    for name in ("postgres", "rasa", "bot", "console"):
        assert "healthcheck" in services[name], name
    for name, service in services.items():
        for dependency in (service.get("depends_on") or {}):
            assert dependency in services, (name, dependency)
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["bot"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert services["bot"]["command"] == ["safesafar", "run"]
    assert services["migrate"]["command"] == ["safesafar", "db", "upgrade"]
    for port in services["bot"]["ports"] + services["console"]["ports"]:
        assert port.startswith("127.0.0.1:"), "published on loopback only, behind a reverse proxy"


def test_the_commands_the_containers_run_exist():
    from bot.cli import main
    import pytest

    for command in (["run", "--help"], ["db", "upgrade", "--help"], ["health", "--help"], ["console", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(command)
        assert exit_info.value.code == 0, command


def test_dockerfile_installs_the_lock_and_never_rasa():
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements/app.lock" in text
    assert not [line for line in text.splitlines() if line.startswith("RUN") and "rasa" in line.lower()]
    lock = (ROOT / "requirements" / "app.lock").read_text().lower()
    assert "rasa" not in lock and "psycopg" in lock


def test_the_rasa_service_mounts_what_its_command_and_configs_name():
    """The micro-batching channel (credentials.yml -> safesafar_batch.py) and the lock store
    (endpoints.yml -> nlu_lockstore.py) must reach the container, or Rasa refuses to start."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    rasa = compose["services"]["rasa"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in rasa["volumes"]}
    command = rasa["command"]
    for flag in ("--endpoints", "--credentials"):
        target = command[command.index(flag) + 1]
        assert target in mounts, flag
        config = yaml.safe_load((ROOT / mounts[target].removeprefix("./")).read_text())
        classes = [config["lock_store"]["type"]] if flag == "--endpoints" else list(config)
        for path in classes:
            module = path.rsplit(".", 1)[0]
            assert f"/app/nlu/{module}.py" in mounts and (ROOT / "nlu" / f"{module}.py").is_file(), path
    assert rasa["environment"]["PYTHONPATH"] == "/app/nlu"
