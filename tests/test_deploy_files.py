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
