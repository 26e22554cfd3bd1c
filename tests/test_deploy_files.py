"""docker-compose.yml and the Dockerfile stay consistent with the code (no Docker engine runs here, so
the files are checked for what can be checked without one)."""
import yaml

from bot.config import ROOT


def test_compose_has_the_services_with_health_checks_and_ordering():
    """The topology of scripts/cluster.sh: PostgreSQL, two Rasa servers, two bot workers in webhook
    mode, the console, nginx in front; only nginx is published."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "rasa1", "rasa2", "migrate", "bot1", "bot2", "console", "nginx"} <= set(services)
    for name in ("postgres", "rasa1", "rasa2", "bot1", "bot2", "console", "nginx"):
        assert "healthcheck" in services[name], name
    for name, service in services.items():
        for dependency in (service.get("depends_on") or {}):
            assert dependency in services, (name, dependency)
    assert services["migrate"]["command"] == ["safesafar", "db", "upgrade"]
    for index, name in enumerate(("bot1", "bot2"), start=1):
        bot = services[name]
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert bot["command"][:2] == ["safesafar", "run"]
        assert bot["environment"]["NLU_URL"] == f"http://rasa{index}:5005", "each worker asks its own Rasa server"
        assert bot["environment"]["NLU_AUTOSTART"] == "false"
    assert services["rasa1"] == services["rasa2"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {"nginx": ["443:443"]}, "everything else is reached through nginx"


def _nginx_upstreams(name: str) -> list[str]:
    text = (ROOT / "deploy" / "nginx" / "upstreams" / name).read_text()
    return [line.split()[1].rstrip(";") for line in text.splitlines() if line.startswith("server ")]


def test_compose_nginx_renders_the_template_that_cluster_sh_renders():
    """One nginx config for both layouts: the template's variables are set by compose's nginx service
    and by scripts/cluster.sh, and compose's upstream lists name its bot workers and console."""
    import re

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    nginx = services["nginx"]
    template = ROOT / "deploy" / "nginx" / "safesafar.conf.template"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in nginx["volumes"]}
    assert mounts["/etc/nginx/templates/safesafar.conf.template"] == "./deploy/nginx/safesafar.conf.template"
    variables = set(re.findall(r"\$\{(\w+)\}", template.read_text()))
    assert variables == {"SAFESAFAR_HTTPS_LISTEN", "SAFESAFAR_TLS_CERT", "SAFESAFAR_TLS_KEY", "SAFESAFAR_UPSTREAMS"}
    assert variables <= set(nginx["environment"])
    assert mounts[nginx["environment"]["SAFESAFAR_UPSTREAMS"]] == "./deploy/nginx/upstreams"
    cluster_sh = (ROOT / "scripts" / "cluster.sh").read_text()
    for variable in variables:
        assert f"{variable}=" in cluster_sh, variable
    bots = [name for name in services if name.startswith("bot")]
    assert sorted(_nginx_upstreams("bots.conf")) == sorted(
        f"{name}:{services[name]['environment']['TELEGRAM_WEBHOOK_PORT']}" for name in bots)
    assert _nginx_upstreams("console.conf") == [f"console:{services['console']['environment']['CONSOLE_PORT']}"]
    # the workers listen on the webhook URL's path: the location nginx forwards
    assert re.search(r"location = /telegram \{(?:(?!location).)*proxy_pass http://safesafar_bots;", template.read_text(),
                     re.S)
    assert 'TELEGRAM_WEBHOOK_URL="$PUBLIC_URL/telegram"' in cluster_sh
    # the console believes X-Forwarded-For from nginx only: its fixed address in the fixed subnet
    import ipaddress

    address = nginx["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert services["console"]["environment"]["CONSOLE_TRUSTED_PROXIES"] == address
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    assert "CONSOLE_TRUSTED_PROXIES=127.0.0.1" in cluster_sh


def test_cluster_sh_renders_an_nginx_config_that_nginx_accepts(tmp_path):
    """`scripts/cluster.sh config` makes the certificate and the config of the local cluster and runs
    `nginx -t` on it (nginx from Debian's package, installed by scripts/nginx.sh)."""
    import os
    import subprocess

    result = subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "config"], capture_output=True, text=True,
                            env=dict(os.environ, CLUSTER_DIR=str(tmp_path / "cluster"), CLUSTER_WORKERS="3"),
                            timeout=300)
    assert result.returncode == 0, result.stderr
    rendered = (tmp_path / "cluster" / "nginx" / "safesafar.conf").read_text()
    assert "${" not in rendered and "ssl_certificate " + str(tmp_path / "cluster" / "tls" / "cert.pem") in rendered
    bots = (tmp_path / "cluster" / "nginx" / "upstreams" / "bots.conf").read_text()
    assert [line.split()[1].rstrip(";") for line in bots.splitlines()] == [
        f"127.0.0.1:{18440 + 20 + i}" for i in (1, 2, 3)]


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
    rasa = compose["services"]["rasa1"]
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
