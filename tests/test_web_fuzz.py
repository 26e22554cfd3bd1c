"""A Hypothesis pass over the console's form parsing (issue 17): every route the app declares, as every role
and as nobody, with forms made of the templates' field names and of anything else (numbers too big for the
database, bidi controls, Urdu, control characters, raw bytes that are not UTF-8, bodies that are not
forms), mostly with the right CSRF token so that the handlers themselves are reached.

Properties, for each request: no exception and no 500; the answer is one the console gives on purpose
(200, 303, 400, 401, 403, 404, 409, 413, 422, 429) with the security headers; a 200 is a whole page (or JSON
for /api/); one request stores at most one row in each table (at a failed login, an audit row more for
each throttle limit it reaches): nothing is stored twice.

Examples: SAFESAFAR_FUZZ_EXAMPLES (default 10,000 on SQLite; PostgreSQL runs a fifth of them). The number
run and the time taken are printed (`pytest -s`)."""
from __future__ import annotations

import io
import json
import os
import time

from babel.messages.pofile import read_po
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from bot.web import store
from tests.test_web_security import (ROLES, SECURITY_HEADERS, TOO_BIG, TOO_BIG_64, World, console_routes, counts,
                                     fill, form_fields)
from tests.web_support import Harness, csrf_from

EXAMPLES = int(os.environ.get("SAFESAFAR_FUZZ_EXAMPLES", "10000"))
ANSWERS = {200, 303, 400, 401, 403, 404, 409, 413, 422, 429}  # 422: a workbench draft that fails the checks

# text with everything but lone surrogates (a form field is UTF-8 on the wire; raw bytes come separately)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
dangerous = st.sampled_from(["x\x00y", "\x00", TOO_BIG, TOO_BIG_64, "\u202e1nimda\u2066", "\ud7ff\ufffe\uffff",
                             "ن" * 6000, "%00"])
special = st.sampled_from([
    "", "0", "1", "2", "3", "-1", "01", " 7", "1_0", "١٢", TOO_BIG, TOO_BIG_64, "9" * 40, "resolved", "waiting",
    "new", "en", "ur", "ur-Latn", "agent", "admin", "supervisor", "editor", "1", "0", "/queue", "//evil.example",
    "\u202e1nimda", "<script>alert(1)</script>", "a" * 4000, "ن" * 3600, "x\x00y", "\r\n", "%00", "%ff%fe",
])
value = st.one_of(special, dangerous, any_text)
short_value = value.map(lambda v: v[:200])  # a URL has room for a few kB (httpx refuses more)
field_name = st.one_of(st.sampled_from(sorted(form_fields())), any_text.filter(bool))
raw_body = st.one_of(st.binary(max_size=400), st.sampled_from([
    b"text=%ff%fe%00&csrf=%e2%80", b"a=1&a=2&a=3" * 30, b"=&&==", b"--x\r\nContent-Disposition: form-data\r\n\r\n",
    b"&".join(b"f%d=1" % i for i in range(200)), b"text=" + b"%E2%80%AE" * 2000,
]))
content_type = st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                "multipart/form-data; boundary=x", "text/plain", "application/json", ""])


def _request(world: World, method: str, path: str, who: str, ids: dict, query: dict, form: dict | None,
             body: bytes | None, ctype: str, token_ok: bool):
    if who == "allowed":  # someone the route lets in: the handler is reached
        policy = world.policies[(method, path)]
        who = "anonymous" if policy.public else world.role_for(policy)
    client = world.anonymous if who == "anonymous" else world.clients[who]
    url = fill(path, **ids)
    if method == "GET":
        return client.get(url, params=query)
    if body is not None:
        return client.post(url, content=body, headers={"content-type": ctype} if ctype else {})
    data = dict(form or {})
    if token_ok:
        data["csrf"] = world.login_token if path == "/login" else world.tokens.get(who, "")
    return client.post(url, data=data)


def _heal(world: World, console: Harness) -> None:
    """After a logout, an account disabled or a throttled login: the throttle's count forgotten, everyone
    active and logged in again (the next examples reach the handlers and the password check again)."""
    with console.engine.begin() as conn:
        conn.execute(update(store.staff_t).values(active=True))
        conn.execute(delete(store.attempts))
    for role in ROLES:
        if world.clients[role].get("/content").status_code != 200:
            client, response = console.login(f"the-{role}", client=world.clients[role])
            assert response.status_code == 303, response.status_code
            world.tokens[role] = console.token(client, "/content")


def test_fuzz_console_forms(console: Harness, db_url):
    world = World(console)
    world.anonymous = console.client()
    world.login_token = console.token(world.anonymous, "/login")
    world.policies = {(m, p): policy for m, p, policy in console_routes(console.app)}
    routes = sorted(world.policies)
    fields = sorted(form_fields() - {"csrf"})
    # a form: some fields, or every field of the templates with the same value
    any_form = st.one_of(st.dictionaries(field_name, value, max_size=8),
                         value.map(lambda v: dict.fromkeys(fields, v)))
    id_value = st.one_of(st.sampled_from([str(world.case_id), str(world.values["canned_id"]),
                                          str(world.values["staff_id"]), "1", "2", "0", TOO_BIG, TOO_BIG_64, "9" * 30]),
                         st.integers(0, 2**70).map(str))
    examples = EXAMPLES if db_url.startswith("sqlite") else max(1, EXAMPLES // 5)
    seen = {"runs": 0, "statuses": {}}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), who=st.sampled_from(("allowed",) * 5 + ROLES + ("anonymous",)),
           ids=st.fixed_dictionaries({"case_id": id_value, "canned_id": id_value, "staff_id": id_value,
                                      # the content workbench: real items, and names that are not
                                      "topic_id": st.sampled_from(["abroad_in_trouble", "greet", "no_such", "%2E%2E", "%00"]),
                                      "fact_id": st.sampled_from(["fia_helpline", "no_such", "A-B"]),
                                      "kind": st.sampled_from(["topic", "fact", "offer_check", "countries", "nope"]),
                                      "key": st.sampled_from(["abroad_in_trouble", "fia_helpline", "offer_check",
                                                              "countries", "../etc/passwd", "a/b/c"])}),
           query=st.one_of(st.dictionaries(field_name, short_value, max_size=4),
                           # every field at once: each value cut so that the whole URL stays under httpx's 64 kB limit
                           # even when every character takes 6 bytes percent-encoded (the form fields keep growing)
                           value.map(lambda v: dict.fromkeys(fields + ["case", "before"],
                                                             v[:max(1, 30000 // (6 * (len(fields) + 2)))]))),
           form=any_form,
           body=st.one_of(st.none(), st.none(), st.none(), raw_body), ctype=content_type,
           token_ok=st.sampled_from([True, True, True, False]))
    def check(route, who, ids, query, form, body, ctype, token_ok):
        method, path = route
        before = counts(console.engine)
        response = _request(world, method, path, who, ids, query, form, body, ctype, token_ok)
        status = response.status_code
        if path == "/login" and 'name="csrf"' in response.text:  # a login page renews the form's token
            world.login_token = csrf_from(response.text)
        seen["runs"] += 1
        seen["statuses"][status] = seen["statuses"].get(status, 0) + 1
        assert status in ANSWERS, (method, path, who, status, response.text[:300])
        for name in SECURITY_HEADERS:
            assert name in response.headers, (method, path, status, name)
        if status == 200:
            if path.startswith("/api/"):
                assert isinstance(json.loads(response.text), dict)
            elif response.headers.get("content-type", "").startswith("text/x-gettext-translation"):
                # the translators' PO download: an attachment that Babel reads back
                assert response.headers["content-disposition"].startswith("attachment;"), (method, path)
                assert read_po(io.BytesIO(response.content)).locale is not None, (method, path)
            else:
                assert response.text.rstrip().endswith("</html>"), (method, path)
        after = counts(console.engine)
        grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}
        # a failed login: its row, and one login_throttled row for each limit (name, address) it reaches
        limit = {"audit": 3} if path == "/login" else {}
        if path.startswith("/content/") and method == "POST":  # a workbench save: saved, then sent for review
            limit = {"audit": 2}
        assert all(n <= limit.get(name, 1) for name, n in grown.items()), (method, path, who, grown)
        if (path in ("/logout", "/staff/{staff_id:int}/active") and status == 303) or status == 429:
            _heal(world, console)

    started = time.perf_counter()
    check()
    elapsed = time.perf_counter() - started
    print(f"\nconsole form fuzz ({db_url.split(':')[0]}): {seen['runs']} requests in {elapsed:.1f} s "
          f"({elapsed / max(seen['runs'], 1) * 1000:.1f} ms each); answers {dict(sorted(seen['statuses'].items()))}")
    assert seen["runs"] >= examples
