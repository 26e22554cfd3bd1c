"""The staff console under attack (issue 17): the attacks of the outside security test, those that failed
then and those that held. Checks that go over the app's routes (and over the field names of the templates'
forms) cover a route or a form added later without a line here; the route/role matrix with its CSRF checks
is tests/test_web_auth.py::test_every_route_refuses_no_session_wrong_role_and_bad_csrf. SQLite and
PostgreSQL (db_url).

The Hypothesis pass over the console's form parsing is tests/test_web_fuzz.py."""
from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from bot.config import Settings, parse_networks
from bot.web import store
from bot.web.auth import LOGIN_COOKIE, MAX_FAILURES, MAX_FAILURES_ADDRESS, SESSION_COOKIE, Sessions
from bot.web.edge import MAX_ID, is_bidi_control, neutralise_bidi, parse_id
from bot.web.limits import MAX_BODY
from tests.conftest import free_port
from tests.web_support import PASSWORD, Harness, add_case, add_staff, csrf_from, rows

TEMPLATES = Path(__file__).resolve().parent.parent / "bot" / "web" / "templates"
ROLES = ("agent", "supervisor", "editor", "admin")
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")
TOO_BIG = "2147483648"  # 2**31: one more than an id column holds on PostgreSQL (INTEGER)
TOO_BIG_64 = "9223372036854775808"  # 2**63: the issue's example, one more than SQLite holds
HUGE = "9" * 40
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
        "\u200f", "\u061c"]


# -- the console's routes and forms, as the app declares them -----------------------------------------------

def console_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, policy) of every route the console declares (not the /static mount)."""
    out = []
    for route in app.routes:
        policy = getattr(getattr(route, "endpoint", None), "policy", None)
        if policy is None:
            continue
        out += [(method, route.path, policy) for method in sorted(route.methods) if method != "HEAD"]
    assert len(out) >= 25
    return out


def form_fields() -> set[str]:
    """The names of every field of every form in the templates."""
    names = set()
    for template in TEMPLATES.glob("*.html"):
        names |= set(re.findall(r'name="([a-z_]+)"', template.read_text(encoding="utf-8")))
    assert {"csrf", "text", "expected", "staff_id", "username", "password"} <= names
    return names


_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def fill(path: str, **values) -> str:
    return _PARAM.sub(lambda m: str(values.get(m.group(1), values.get("default", "1"))), path)


def int_params(path: str) -> list[str]:
    return [m.group(1) for m in _PARAM.finditer(path) if m.group(2) == "int"]


class World:
    """A console with one logged-in person per role, a case held by the agent, a canned reply and a
    second staff account: every route has something real to act on."""

    def __init__(self, console: Harness):
        self.console = console
        self.clients = {role: console.as_staff(f"the-{role}", role) for role in ROLES}
        self.ids = {role: rows(console.engine, store.staff_t, store.staff_t.c.username == f"the-{role}")[0].id
                    for role in ROLES}
        self.tokens = {role: console.token(client, "/content") for role, client in self.clients.items()}
        self.case_id = add_case(console.engine, assigned_to=self.ids["agent"], status="claimed")
        self.values = {"case_id": self.case_id, "canned_id": rows(console.engine, store.canned)[0].id,
                       "staff_id": add_staff(console.engine, "target", "agent"),
                       # the content workbench (issue 19): a real topic, fact and item
                       "topic_id": "abroad_in_trouble", "fact_id": "fia_helpline", "kind": "topic",
                       "key": "abroad_in_trouble"}

    def role_for(self, policy) -> str:
        return "admin" if "admin" in policy.roles else policy.roles[0]

    def url(self, path: str, **override) -> str:
        return fill(path, **{**self.values, **override})


def counts(engine) -> dict[str, int]:
    tables = {"messages": store.messages, "notes": store.notes, "outbox": store.outbox, "audit": store.audit_t,
              "attempts": store.attempts, "canned": store.canned, "staff": store.staff_t}
    query = select(*[select(func.count()).select_from(t).scalar_subquery().label(name) for name, t in tables.items()])
    with engine.connect() as conn:
        return dict(conn.execute(query).one()._mapping)


def assert_headers(response) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, (response.request.url, response.status_code, name)


# -- 1. parallel logins cannot get past the throttle ---------------------------------------------------------

def test_parallel_wrong_passwords_get_at_most_the_limit_of_guesses(console: Harness, monkeypatch):
    """12 wrong-password POSTs for one name at the same moment (asyncio against the ASGI app: each request's
    handler runs in its own worker thread). The password check is slowed to 0.3 s, as a costly argon2 would
    be, so that every request is inside its check while the others count."""
    add_staff(console.engine, "bilal", "agent")
    passwords = console.app.state.console.passwords
    real_verify = passwords.verify

    def slow_verify(stored, password):
        time.sleep(0.3)
        return real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify", slow_verify)
    page = console.client().get("/login")
    token, cookie = csrf_from(page.text), page.cookies[LOGIN_COOKIE]

    async def attack() -> list[int]:
        transport = httpx.ASGITransport(app=console.app, client=("198.51.100.20", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     cookies={LOGIN_COOKIE: cookie}) as client:
            responses = await asyncio.gather(*[
                client.post("/login", data={"username": "bilal", "password": f"guess {i}", "csrf": token})
                for i in range(12)])
        return [r.status_code for r in responses]

    statuses = asyncio.run(attack())
    assert Counter(statuses) == Counter({401: MAX_FAILURES, 429: 12 - MAX_FAILURES}), statuses
    attempts = rows(console.engine, store.attempts)
    assert [(a.username, a.ok) for a in attempts] == [("bilal", False)] * MAX_FAILURES
    actions = Counter(a.action for a in rows(console.engine, store.audit_t))
    assert actions["login_failed"] == MAX_FAILURES and actions["login_throttled"] == 1


def test_a_success_does_not_reset_the_address_count(console: Harness):
    add_staff(console.engine, "chanda", "agent")
    for i in range(MAX_FAILURES_ADDRESS - 1):
        assert console.login(f"guess{i}", "not the password")[1].status_code == 401
    assert console.login("chanda")[1].status_code == 303  # the attacker's own account, say
    assert console.login("guess-last", "not the password")[1].status_code == 401
    _, response = console.login("chanda")  # the address has used up its guesses, success or not
    assert response.status_code == 429


def test_a_success_resets_the_username_count(console: Harness):
    add_staff(console.engine, "dilshad", "agent")
    for _ in range(MAX_FAILURES - 1):
        assert console.login("dilshad", "typo typo typo")[1].status_code == 401
    assert console.login("dilshad")[1].status_code == 303
    for _ in range(MAX_FAILURES - 1):  # the person's own typos later: not throttled yet
        assert console.login("dilshad", "typo typo typo")[1].status_code == 401
    assert console.login("dilshad")[1].status_code == 303


def test_throttled_attempts_write_nothing(console: Harness):
    add_staff(console.engine, "erum", "agent")
    for _ in range(MAX_FAILURES):
        assert console.login("erum", "not the password")[1].status_code == 401
    before = counts(console.engine)
    for _ in range(30):
        assert console.login("erum", "not the password")[1].status_code == 429
    assert counts(console.engine) == before
    throttled = [a for a in rows(console.engine, store.audit_t) if a.action == "login_throttled"]
    assert [(a.actor, a.detail["scope"]) for a in throttled] == [("erum", "username")]


# -- 2. X-Forwarded-For only from a configured proxy ----------------------------------------------------------

def test_forwarded_for_from_loopback_is_not_believed(db_url, monkeypatch):
    """The console as `safesafar console` serves it (bot.web.server.serve), on a free port: a client on
    this machine sending its own X-Forwarded-For is still throttled (and audited) by its real address."""
    import uvicorn

    from bot.web.server import serve

    captured = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: captured.update(app=app, options=options))
    port = free_port()
    serve(replace(Settings.from_env(), database_url=db_url, console_port=port, console_trusted_proxies=()))
    options = {**captured["options"], "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(captured["app"], **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            page, statuses = client.get("/login"), []
            for i in range(MAX_FAILURES_ADDRESS + 1):
                page = client.post("/login", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                                   data={"username": f"guess{i}", "password": "x" * 12, "csrf": csrf_from(page.text)})
                statuses.append(page.status_code)
        assert statuses == [401] * MAX_FAILURES_ADDRESS + [429]
        engine = captured["app"].state.console.engine
        assert {a.address for a in rows(engine, store.attempts)} == {"127.0.0.1"}
        assert {a.detail["address"] for a in rows(engine, store.audit_t) if a.action == "login_failed"} == {"127.0.0.1"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        captured["app"].state.console.engine.dispose()


def test_forwarded_for_from_a_trusted_proxy_gives_the_right_most_untrusted_address(db_url):
    settings = replace(Settings.from_env(), database_url=db_url, console_url="http://testserver",
                       console_trusted_proxies=parse_networks("10.0.0.0/8, 192.0.2.7", "test"))
    harness = Harness(settings)
    try:
        for peer, forwarded, expected in (
                (("10.1.2.3", 5000), "198.51.100.1, 203.0.113.9, 10.0.0.5", "203.0.113.9"),  # spoofed left part
                (("192.0.2.7", 5000), "203.0.113.10", "203.0.113.10"),
                (("192.0.2.8", 5000), "10.0.0.1", "192.0.2.8")):  # not a proxy: its header is ignored
            client = harness.client(client=peer)
            page = client.get("/login")
            client.post("/login", headers={"X-Forwarded-For": forwarded},
                        data={"username": "nobody", "password": "x" * 12, "csrf": csrf_from(page.text)})
            assert rows(harness.engine, store.attempts)[-1].address == expected
    finally:
        harness.close()


def test_trusted_proxies_setting_is_checked():
    assert parse_networks("", "X") == ()
    assert parse_networks("127.0.0.1, 172.16.0.0/12 fd00::/8", "X") == ("127.0.0.1/32", "172.16.0.0/12",
                                                                        "fd00::/8")
    with pytest.raises(ValueError, match="CONSOLE_TRUSTED_PROXIES"):
        parse_networks("proxy.example", "CONSOLE_TRUSTED_PROXIES")


# -- 4. integers at the edge ---------------------------------------------------------------------------------

def test_parse_id():
    assert parse_id("0") == 0 and parse_id(str(MAX_ID)) == MAX_ID
    for bad in (TOO_BIG, TOO_BIG_64, HUGE, "", "-1", "+1", " 1", "1 ", "1_000", "١٢", "１", "0x10", "1e3", "1.0"):
        assert parse_id(bad) is None, bad


def test_every_integer_path_parameter_out_of_range_is_404(console: Harness):
    world = World(console)
    checked = 0
    for method, path, policy in console_routes(console.app):
        for name in int_params(path):
            role = world.role_for(policy)
            for value in (TOO_BIG, TOO_BIG_64, HUGE, str(MAX_ID)):
                target = world.url(path, **{name: value})
                data = {"csrf": world.tokens[role], "text": "x", "status": "resolved"} if method == "POST" else None
                response = world.clients[role].request(method, target, data=data)
                # the largest id the database holds is a valid one, of nothing: 404, or 409 for a form refused first
                allowed = (404, 409) if value == str(MAX_ID) else (404,)
                assert response.status_code in allowed, (method, target, response.status_code)
                assert_headers(response)
                checked += 1
    assert checked >= 12 * 4


def test_every_integer_form_field_and_query_parameter_is_validated(console: Harness):
    """Every field name of the templates' forms, and the audit filters, with numbers the database cannot
    hold or that are not numbers, on every route: never a 500; the known integer fields give 400."""
    world = World(console)
    bad_values = (TOO_BIG, TOO_BIG_64, HUGE, "-1", "1_0", "١٢")
    for method, path, policy in console_routes(console.app):
        role = world.role_for(policy)
        client = world.clients[role]
        for value in bad_values:
            if method == "GET":
                query = {name: value for name in form_fields() | {"case", "before"}}
                response = client.get(world.url(path), params=query)
            else:
                data = {name: value for name in form_fields() if name != "csrf"} | {"csrf": world.tokens[role]}
                response = client.post(world.url(path), data=data)
            assert response.status_code < 500, (method, path, value, response.status_code)
            assert_headers(response)
    supervisor = world.clients["supervisor"]
    for query in ({"case": TOO_BIG}, {"before": TOO_BIG}, {"case": "abc"}, {"before": "-5"}):
        assert supervisor.get("/audit", params=query).status_code == 400, query
    assert supervisor.get("/audit", params={"case": "", "before": ""}).status_code == 200
    path = f"/cases/{world.case_id}"
    for field, route in (("expected", "takeover"), ("staff_id", "assign")):
        for value in (TOO_BIG, "1 OR 1=1", "-3"):
            response = supervisor.post(f"{path}/{route}", data={"csrf": world.tokens["supervisor"], field: value})
            assert response.status_code == 400, (field, value, response.status_code)
    assert rows(console.engine, store.cases, store.cases.c.id == world.case_id)[0].assigned_to == world.ids["agent"]


def test_a_nul_character_in_any_field_is_refused(console: Harness):
    """PostgreSQL cannot store or compare text with NUL (a 500 before): refused at the edge on every route."""
    world = World(console)
    for method, path, policy in console_routes(console.app):
        role = world.role_for(policy)
        client = console.client() if policy.public else world.clients[role]
        if method == "GET":
            response = client.get(world.url(path), params={"action": "login\x00", "view": "all"})
        else:
            token = csrf_from(client.get("/login").text) if policy.public else world.tokens[role]
            data = {name: "x\x00y" for name in form_fields() if name != "csrf"} | {"csrf": token}
            response = client.post(world.url(path), data=data)
        assert response.status_code == 400, (method, path, response.status_code)
    before = counts(console.engine)
    anonymous = console.client()
    page = anonymous.get("/login")
    response = anonymous.post("/login", data={"username": "admin\x00", "password": "x" * 12,
                                              "csrf": csrf_from(page.text)})
    assert response.status_code == 400
    assert counts(console.engine) == before


# -- 4b. every answer carries the security headers, a 500 too, and leaks nothing ----------------------------

def test_error_pages_carry_the_security_headers_and_leak_nothing(console: Harness):
    def boom(request):
        raise RuntimeError("secret detail /work/db.sqlite")

    console.app.router.routes.append(Route("/boom-for-test", boom))
    client = console.client(raise_server_exceptions=False)
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert_headers(response)
    assert "secret detail" not in response.text and "Traceback" not in response.text
    for target, status in (("/no-such-page", 404), ("/static/../bot/web/app.py", 404),
                           ("/static/%2e%2e/app.py", 404), ("/static/..%2fapp.py", 404)):
        response = client.get(target)
        assert response.status_code == status, target
        assert "import" not in response.text and "Traceback" not in response.text
        assert_headers(response)
    response = client.put("/login")
    assert response.status_code == 405
    assert_headers(response)


def test_every_route_answers_with_the_security_headers(console: Harness):
    world = World(console)
    anonymous = console.client()
    for method, path, policy in console_routes(console.app):
        role = world.role_for(policy)
        for client, data in ((anonymous, {}), (world.clients[role], {"csrf": world.tokens[role]})):
            response = client.request(method, world.url(path), data=data if method == "POST" else None)
            assert_headers(response)
            if not path.startswith("/static"):
                assert response.headers["cache-control"] == "no-store"


# -- 5. the body: limited before it is read, and not read before the session is checked ---------------------

def test_every_post_route_refuses_a_large_body_before_reading_it(console: Harness):
    world = World(console)
    body = b"text=" + b"a" * (MAX_BODY + 1)

    def chunks():
        for _ in range(8):
            yield b"a" * (MAX_BODY // 4)

    posts = [(path, policy) for method, path, policy in console_routes(console.app) if method == "POST"]
    assert posts
    for path, policy in posts:
        role = world.role_for(policy)
        for client in (console.client(), world.clients[role]):
            response = client.post(world.url(path), content=body,
                                   headers={"content-type": "application/x-www-form-urlencoded"})
            assert response.status_code == 413, path
            assert_headers(response)
        # chunked (no Content-Length): cut off while it is read; without a session it is not read at all
        for client, status in ((console.client(), 413 if policy.public else 401 if policy.api else 303),
                               (world.clients[role], 413)):
            response = client.post(world.url(path), content=chunks(),
                                   headers={"content-type": "application/x-www-form-urlencoded"})
            assert response.status_code == status, path
            assert_headers(response)
    big_but_allowed = {"csrf": world.tokens["agent"], "text": "ن" * 5000}  # a note at its limit, in Urdu
    response = world.clients["agent"].post(f"/cases/{world.case_id}/notes", data=big_but_allowed)
    assert response.status_code == 303


def test_the_session_is_checked_before_the_form_is_parsed(console: Harness):
    """A body the form parser refuses (multipart without a boundary) shows whether it was parsed: without a
    session, every authenticated route answers as to any anonymous request, and leaves nothing behind."""
    world = World(console)
    anonymous = console.client()
    editor = world.clients["editor"]
    before = counts(console.engine)
    for method, path, policy in console_routes(console.app):
        if method != "POST" or policy.public:
            continue
        response = anonymous.post(world.url(path), content=b"--x\r\ngarbage",
                                  headers={"content-type": "multipart/form-data"})
        expected = 401 if policy.api else 303
        assert response.status_code == expected, (path, response.status_code, response.text[:80])
        if "editor" not in policy.roles:  # the role too is checked first
            response = editor.post(world.url(path), content=b"--x\r\ngarbage",
                                   headers={"content-type": "multipart/form-data"})
            assert response.status_code == 403, path
    assert counts(console.engine) == before


# -- 6. bidi controls in names and audit fields --------------------------------------------------------------

def test_bidi_controls_are_neutralised():
    assert all(is_bidi_control(c) for c in BIDI)
    assert not any(is_bidi_control(c) for c in "abc اردو 123 \u200b\u200d")
    assert neutralise_bidi("\u202e1nimda") == "<U+202E>1nimda"
    assert neutralise_bidi("سیف سفر") == "سیف سفر"


def test_a_right_to_left_override_cannot_disguise_a_name_in_the_audit_log(console: Harness):
    admin = console.as_staff("root", "admin")
    console.login("\u202e1nimda", "not the password")
    token = console.token(admin, "/staff")
    response = admin.post("/staff", data={"csrf": token, "username": "fatima", "display_name": "\u202eFatima\u2066x",
                                          "role": "agent", "language": "en", "password": "a long password"})
    assert response.status_code == 303
    supervisor = console.as_staff("sup", "supervisor")
    audit_page = supervisor.get("/audit").text
    staff_page = admin.get("/staff").text
    for table, column in ((store.audit_t, "actor"), (store.attempts, "username"), (store.staff_t, "display_name")):
        values = [getattr(r, column) or "" for r in rows(console.engine, table)]
        assert not any(is_bidi_control(c) for v in values for c in v), (table.name, values)
    assert any(r.actor == "<U+202E>1nimda" for r in rows(console.engine, store.audit_t))
    for page in (audit_page, staff_page):
        assert not any(c in page for c in BIDI)
    assert "&lt;U+202E&gt;1nimda" in audit_page
    for detail in (r.detail for r in rows(console.engine, store.audit_t)):
        assert not any(is_bidi_control(c) for c in str(detail))
    # the free text of a case keeps its marks (Urdu writers use them), isolated on the page
    case_id = add_case(console.engine, summary="\u200fسلام", transcript=[{"direction": "in", "text": "\u202eabc"}])
    page = supervisor.get(f"/cases/{case_id}").text
    assert re.search(r'<div class="body" dir="auto">\u202eabc</div>', page)
    assert '<bdi>' in page


# -- Host header --------------------------------------------------------------------------------------------

def test_a_foreign_host_header_is_refused_everywhere(console: Harness):
    world = World(console)
    for method, path, policy in console_routes(console.app) + [("GET", "/queue/", None), ("GET", "/static/app.js", None)]:
        for client in (console.client(), world.clients["admin"]):
            response = client.request(method, world.url(path), headers={"host": "evil.example"})
            assert response.status_code == 400, (method, path, response.status_code)
            assert "evil.example" not in response.headers.get("location", "")
            assert_headers(response)
    assert world.clients["agent"].get("/queue/", headers={"host": "testserver"}).status_code in (200, 307)
    for host in ("127.0.0.1:8080", "localhost"):
        assert console.client().get("/login", headers={"host": host}).status_code == 200


# -- the attacks that held: sessions, open redirects, escaping ------------------------------------------------

def test_a_tampered_or_foreign_session_cookie_is_refused(console: Harness):
    client = console.as_staff("gul", "agent")
    cookie = client.cookies[SESSION_COOKIE]
    session = console.app.state.console.sessions.loads(cookie)
    admin_id = add_staff(console.engine, "boss", "admin")  # a session of the admin, signed with another key
    foreign = Sessions("not the console's secret", console.clock).dumps(replace(session, staff_id=admin_id))
    for bad in (cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), cookie.replace(".", "x", 1),
                foreign, "", "a" * 5000):
        intruder = console.client()
        intruder.cookies.set(SESSION_COOKIE, bad)
        response = intruder.get("/queue")
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), bad[:20]
        assert intruder.get("/api/queue").status_code == 401


def test_login_never_redirects_off_site(console: Harness):
    add_staff(console.engine, "huma", "agent")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:x",
                   "http:/evil.example"):
        client = console.client()
        page = client.get("/login")
        response = client.post("/login", data={"username": "huma", "password": PASSWORD, "next": target,
                                               "csrf": csrf_from(page.text)})
        assert response.status_code == 303 and response.headers["location"] == "/", target
        response = client.post("/language", data={"language": "ur", "next": target,
                                                  "csrf": console.token(client, "/content")})
        assert response.headers["location"] == "/", target


def test_names_and_texts_are_escaped_everywhere(console: Harness):
    xss = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    world = World(console)
    add_staff(console.engine, "xss", "agent", display_name=xss)
    case_id = add_case(console.engine, summary=xss, transcript=[{"direction": "in", "text": xss}],
                       entities={"who": xss}, assigned_to=rows(console.engine, store.staff_t,
                                                               store.staff_t.c.username == "xss")[0].id)
    admin = world.clients["admin"]
    token = world.tokens["admin"]
    admin.post("/canned", data={"csrf": token, "language": "en", "title": xss, "text": xss})
    admin.post(f"/cases/{case_id}/notes", data={"csrf": token, "text": xss})
    for path in ("/queue?view=all", f"/cases/{case_id}", "/canned", "/staff", "/audit", "/api/queue?view=all",
                 f"/api/cases/{case_id}"):
        text = admin.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
