"""Router labels of an app: domain validation (no rule injection), rules, labels, ownership."""

from __future__ import annotations

import json
import re

import pytest
from ansible_collections.sentinel.paas.plugins.module_utils import _traefik as t

APP = "todo"


def route(**overrides) -> dict:
    params = {"domains": ["todo.example.com"]}
    params.update(overrides)
    return t.desired_route(APP, params)


# -- domains ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "domain",
    [
        "todo.example.com",
        "a.b",
        "x1.example.co.uk",
        "my-app.example.com",
        "xn--bcher-kva.example",  # punycode
        "1password.example.com",  # labels may start with a digit (RFC 1123)
        "TODO.Example.COM",  # lowercased, not rejected
        "a" * 63 + ".com",
        ".".join(["a" * 63] * 3 + ["b" * 61]),  # exactly 253 characters
    ],
)
def test_valid_domains(domain):
    assert t.domain_error(domain) is None


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("", "empty"),
        ("localhost", "at least one dot"),
        ("example.com.", "must not end with a dot"),
        (".example.com", "empty label"),
        ("a..example.com", "empty label"),
        ("-a.example.com", "hyphen"),
        ("a-.example.com", "hyphen"),
        ("a" * 64 + ".com", "longer than 63"),
        (".".join(["a" * 63] * 4), "longer than 253"),
        ("10.0.0.1", "IP address"),
        ("*.example.com", "wildcards are not supported"),
        ("a.*.example.com", "wildcards are not supported"),
        ("bücher.example", "non-ASCII"),
        ("\u212aelvin.example.com", "non-ASCII"),  # KELVIN SIGN lowercases to an ASCII "k"
        ("todo.example.com\u200b", "non-ASCII"),  # zero-width space
        ("under_score.example.com", "'_'"),
    ],
)
def test_invalid_domains_say_why(domain, reason):
    error = t.domain_error(domain)
    assert error is not None and reason in error
    assert repr(domain) in error  # names the bad domain


# Everything that could end or extend a Host() rule, or a label value, must be refused.
INJECTIONS = [
    "a.com`) || Host(`evil.com",
    "a.com`)||PathPrefix(`/",
    "a.com` ) || HostRegexp(`.*",
    "a.com`",
    "`a.com",
    "a.com') || Host('b.com",
    'a.com") || Host("b.com',
    "a.com || b.com",
    "a.com||b.com",
    "a.com && b.com",
    "a.com&&b.com",
    "!a.com",
    "a.com)",
    "(a.com",
    "a.com b.com",
    " a.com",
    "a.com ",
    "a.com,b.com",
    "a.com\nb.com",
    "a.com\n",
    "a.com\r",
    "a.com\t",
    "a.com\x00",
    "${HOST}.example.com",
    "$(whoami).example.com",
    "{{ lookup('env','HOME') }}.example.com",
    "{{.Name}}.example.com",
    "a.com/path",
    "a.com:8080",
    "user@a.com",
    "a.com?x=1",
    "a.com#frag",
    "a.com;b",
    "a.com\\b",
    "a.com=b",
    "a.com%0a",
    "a.com|b",
    "a.com&b",
    "[::1]",
    "a.com\u2028",
]


@pytest.mark.parametrize("domain", INJECTIONS)
def test_injection_attempts_are_rejected(domain):
    error = t.domain_error(domain)
    assert error is not None
    assert repr(domain) in error
    with pytest.raises(t.RouteError) as raised:
        t.normalize_domains(["ok.example.com", domain])
    assert repr(domain) in str(raised.value)


@pytest.mark.parametrize("domain", [None, 1, ["a.com"], {"a": 1}])
def test_non_string_domains_are_rejected(domain):
    assert "must be a string" in t.domain_error(domain)


@pytest.mark.parametrize("domains", [[], None, "todo.example.com"])
def test_domains_must_be_a_non_empty_list(domains):
    with pytest.raises(t.RouteError, match="at least one host name"):
        t.normalize_domains(domains)


def test_domains_are_lowercased_and_deduplicated_in_order():
    assert t.normalize_domains(["B.example.com", "a.example.com", "b.EXAMPLE.com"]) == [
        "b.example.com",
        "a.example.com",
    ]


def test_every_bad_domain_is_named():
    with pytest.raises(t.RouteError) as raised:
        t.normalize_domains(["a`.com", "ok.example.com", "b c.com"])
    assert "'a`.com'" in str(raised.value) and "'b c.com'" in str(raised.value)


# -- rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domains", "rule"),
    [
        (["a.example.com"], "Host(`a.example.com`)"),
        (["a.example.com", "b.example.com"], "Host(`a.example.com`) || Host(`b.example.com`)"),
    ],
)
def test_build_and_parse_rule(domains, rule):
    assert t.build_rule(domains) == rule
    assert t.parse_rule(rule) == domains


@pytest.mark.parametrize(
    "rule",
    [
        "Host(`a.example.com`) && PathPrefix(`/x`)",
        "HostRegexp(`.*`)",
        "Host(`a.example.com`)||Host(`b.example.com`)",
        "Host(`A.example.com`)",
        "Host(`a b`)",
        "",
    ],
)
def test_parse_rule_refuses_rules_it_did_not_write(rule):
    assert t.parse_rule(rule) is None


# -- other options ----------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["auth", "auth@file", "rate_limit@swarm", "my-mw@kubernetescrd", "todo-retry@file"])
def test_valid_middlewares(ref):
    assert t.normalize_middlewares(APP, [ref]) == [ref]


@pytest.mark.parametrize(
    ("refs", "reason"),
    [
        (["a,b"], "invalid middleware"),
        (["a b"], "invalid middleware"),
        (["a@"], "invalid middleware"),
        (["@file"], "invalid middleware"),
        (["a@file@x"], "invalid middleware"),
        (["a`"], "invalid middleware"),
        (["a.b"], "invalid middleware"),
        ([""], "invalid middleware"),
        (["a\n"], "invalid middleware"),
        ([3], "invalid middleware"),
        (["auth", "auth"], "listed twice"),
        (["todo-retry"], "managed by traefik_route"),
        (["todo-https@swarm"], "managed by traefik_route"),
        (["todo-hsts"], "managed by traefik_route"),
        ("auth", "must be a list"),
    ],
)
def test_invalid_middlewares(refs, reason):
    with pytest.raises(t.RouteError, match=reason):
        t.normalize_middlewares(APP, refs)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"service": "canary"}, "invalid service"),
        ({"retry_attempts": -1}, "invalid retry_attempts"),
        ({"retry_attempts": 11}, "invalid retry_attempts"),
        ({"retry_attempts": True}, "invalid retry_attempts"),
        ({"priority": 0}, "invalid priority"),
        ({"priority": "5"}, "invalid priority"),
        ({"priority": 999_999_998}, "invalid priority"),
        ({"entrypoints": {"http": "web`"}}, "invalid entrypoint"),
        ({"entrypoints": {"https": "a b"}}, "invalid entrypoint"),
        ({"cert_resolver": "le,x"}, "invalid cert_resolver"),
        ({"domains": ["a.com`"]}, "invalid domain"),
        ({"tls": False, "hsts": True}, "hsts needs tls"),
        ({"maintenance": True, "maintenance_message": "a\nb"}, "control characters"),
        ({"maintenance": True, "maintenance_message": "x" * 501}, "at most 500"),
        ({"maintenance": True, "maintenance_retry_after": 0}, "invalid maintenance_retry_after"),
        ({"maintenance": True, "maintenance_retry_after": 86401}, "invalid maintenance_retry_after"),
        ({"maintenance": True, "maintenance_retry_after": True}, "invalid maintenance_retry_after"),
    ],
)
def test_desired_route_rejects_bad_options(overrides, reason):
    with pytest.raises(t.RouteError, match=reason):
        route(**overrides)


def test_desired_route_defaults():
    assert route() == {
        "domains": ["todo.example.com"],
        "tls": True,
        "entrypoints": {"http": "web", "https": "websecure"},
        "cert_resolver": "sentinel",
        "middlewares": [],
        "service": "prod",
        "retry_attempts": 3,
        "priority": None,
        "hsts": False,
        "preview_header": None,
        "maintenance": False,
        "maintenance_message": None,
        "maintenance_retry_after": None,
    }


def test_without_tls_https_settings_do_not_matter():
    assert route(tls=False, cert_resolver="other", entrypoints={"https": "x"}) == route(tls=False)
    assert route(tls=False)["entrypoints"] == {"http": "web", "https": None}


# -- labels -----------------------------------------------------------------------------
def test_labels_with_tls():
    assert t.build_labels(APP, route(domains=["todo.example.com", "www.todo.example.com"])) == {
        "traefik.http.routers.todo.rule": "Host(`todo.example.com`) || Host(`www.todo.example.com`)",
        "traefik.http.routers.todo.entrypoints": "websecure",
        "traefik.http.routers.todo.tls": "true",
        "traefik.http.routers.todo.tls.certresolver": "sentinel",
        "traefik.http.routers.todo.service": "todo-prod",
        "traefik.http.routers.todo.middlewares": "todo-retry",
        "traefik.http.middlewares.todo-retry.retry.attempts": "3",
        "traefik.http.routers.todo-http.rule": "Host(`todo.example.com`) || Host(`www.todo.example.com`)",
        "traefik.http.routers.todo-http.entrypoints": "web",
        "traefik.http.routers.todo-http.middlewares": "todo-https",
        "traefik.http.routers.todo-http.service": "noop@internal",
        "traefik.http.middlewares.todo-https.redirectscheme.scheme": "https",
        "traefik.http.middlewares.todo-https.redirectscheme.permanent": "true",
    }


def test_labels_without_tls_split_no_retry_with_priority():
    labels = t.build_labels(
        APP, route(tls=False, service="split", retry_attempts=0, priority=7, middlewares=["auth@file"])
    )
    assert {k: v for k, v in labels.items() if k.startswith("traefik.http.routers.todo.")} == {
        "traefik.http.routers.todo.rule": "Host(`todo.example.com`)",
        "traefik.http.routers.todo.entrypoints": "web",
        "traefik.http.routers.todo.service": "todo-split@file",
        "traefik.http.routers.todo.middlewares": "auth@file",
        "traefik.http.routers.todo.priority": "7",
    }


def test_user_middlewares_come_before_retry():
    labels = t.build_labels(APP, route(middlewares=["a@file", "b"]))
    assert labels["traefik.http.routers.todo.middlewares"] == "a@file,b,todo-retry"


def test_hsts_is_the_outermost_middleware_with_a_year_and_subdomains():
    labels = t.build_labels(APP, route(middlewares=["a@file"], hsts=True))
    assert labels["traefik.http.routers.todo.middlewares"] == "todo-hsts,a@file,todo-retry"
    assert labels["traefik.http.middlewares.todo-hsts.headers.stsSeconds"] == "31536000"
    assert labels["traefik.http.middlewares.todo-hsts.headers.stsIncludeSubdomains"] == "true"
    assert "todo-hsts" not in t.build_labels(APP, route())["traefik.http.routers.todo.middlewares"]


ROUTES = [
    {},
    {"tls": False},
    {"domains": ["b.example.com", "a.example.com"], "service": "split"},
    {"middlewares": ["auth@file", "ratelimit"], "retry_attempts": 0},
    {"tls": False, "middlewares": ["x"], "priority": 100, "entrypoints": {"http": "plain"}},
    {"entrypoints": {"http": "h", "https": "s"}, "cert_resolver": "le", "retry_attempts": 10, "priority": 1},
    {"hsts": True, "middlewares": ["auth@file"]},
    {"hsts": True, "retry_attempts": 0},
    {"service": "split", "preview_header": "X-QA-Canary", "hsts": True},
    {"service": "split", "tls": False, "priority": 40},
]


@pytest.mark.parametrize("overrides", ROUTES)
def test_labels_round_trip(overrides):
    wanted = route(**overrides)
    labels = t.build_labels(APP, wanted)
    assert all(t.is_owned_label(APP, k) for k in labels)
    assert t.parse_route(APP, labels) == wanted


# -- the canary's preview -----------------------------------------------------------------
PREVIEW_ROUTERS = ("todo-preview", "todo-pinned", "todo-preview-on", "todo-preview-off")


def test_a_route_to_production_has_no_preview():
    labels = t.build_labels(APP, route(preview_header="X-QA"))
    assert not [k for k in labels if "preview" in k or "pinned" in k]
    assert route(preview_header="X-QA")["preview_header"] is None
    assert t.preview_of(route()) is None


def test_through_the_split_a_header_or_cookie_names_a_side():
    labels = t.build_labels(APP, route(service="split", tls=False))
    host = "(Host(`todo.example.com`))"
    assert labels["traefik.http.routers.todo-preview.rule"] == (
        f"{host} && (Header(`X-Sentinel-Canary`, `always`) || (!Header(`X-Sentinel-Canary`, `never`)"
        r" && HeaderRegexp(`Cookie`, `(?:^|;\s*)sentinel-canary=always(?:;|$)`)))"
    )
    assert labels["traefik.http.routers.todo-preview.service"] == "todo-canary-guard@file"
    assert labels["traefik.http.routers.todo-pinned.service"] == "todo-prod"
    assert "`never`) || (!Header(`X-Sentinel-Canary`, `always`)" in labels["traefik.http.routers.todo-pinned.rule"]
    assert labels["traefik.http.routers.todo-preview-on.rule"] == f"{host} && Query(`sentinel-canary`, `1`)"
    assert labels["traefik.http.routers.todo-preview-off.rule"] == f"{host} && Query(`sentinel-canary`, `0`)"
    set_cookie = "traefik.http.middlewares.todo-preview-{}.headers.customresponseheaders.Set-Cookie"
    assert labels[set_cookie.format("on")] == "sentinel-canary=always; Path=/; HttpOnly; SameSite=Lax"
    assert labels[set_cookie.format("off")] == "sentinel-canary=never; Path=/; HttpOnly; SameSite=Lax"


def test_the_preview_outranks_the_app_router_and_a_link_outranks_the_preview():
    default = t.build_labels(APP, route(service="split"))
    rule_length = len("Host(`todo.example.com`)")  # Traefik's default priority of the app router
    given = t.build_labels(APP, route(service="split", priority=500))
    for labels, base in ((default, rule_length), (given, 500)):
        assert labels["traefik.http.routers.todo-preview.priority"] == str(base + 1)
        assert labels["traefik.http.routers.todo-pinned.priority"] == str(base + 1)
        assert labels["traefik.http.routers.todo-preview-on.priority"] == str(base + 2)


def test_the_preview_keeps_the_app_routers_middlewares_entrypoint_and_tls():
    labels = t.build_labels(APP, route(service="split", middlewares=["auth@file"], hsts=True))
    for router in PREVIEW_ROUTERS:
        assert labels[f"traefik.http.routers.{router}.entrypoints"] == "websecure"
        assert labels[f"traefik.http.routers.{router}.tls"] == "true"
        assert labels[f"traefik.http.routers.{router}.middlewares"].startswith("todo-hsts,auth@file,")
    assert labels["traefik.http.routers.todo-preview.middlewares"] == "todo-hsts,auth@file,todo-retry"
    # A link answers with a redirect: its cookie, then back to the page without the parameter.
    assert labels["traefik.http.routers.todo-preview-on.middlewares"] == (
        "todo-hsts,auth@file,todo-preview-on,todo-preview-link"
    )
    assert labels["traefik.http.routers.todo-preview-on.service"] == "noop@internal"
    assert labels["traefik.http.middlewares.todo-preview-on.headers.customresponseheaders.Set-Cookie"].endswith(
        "; Secure"
    )


@pytest.mark.parametrize(
    ("url", "back_to"),
    [
        ("https://a.example.com/p?sentinel-canary=1", "https://a.example.com/p?"),
        ("https://a.example.com/p?x=1&sentinel-canary=0", "https://a.example.com/p?x=1&"),
        ("https://a.example.com/?sentinel-canary=1&y=2", "https://a.example.com/?y=2"),
        ("https://a.example.com/p?x=1&sentinel-canary=1&y=2", "https://a.example.com/p?x=1&y=2"),
    ],
)
def test_a_link_comes_back_without_its_parameter(url, back_to):
    labels = t.build_labels(APP, route(service="split"))
    regex = labels["traefik.http.middlewares.todo-preview-link.redirectregex.regex"]
    replacement = labels["traefik.http.middlewares.todo-preview-link.redirectregex.replacement"]
    assert re.sub(regex, replacement.replace("${1}", r"\1").replace("${2}", r"\2"), url) == back_to


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("X QA", "letters, digits"),
        ("", "letters, digits"),
        ("X`A", "letters, digits"),  # a backtick would end the rule's string
        ("Cookie", "itself"),
        ("host", "itself"),
        (7, "letters"),
    ],
)
def test_a_bad_preview_header_is_refused(header, why):
    with pytest.raises(t.RouteError, match=why):
        route(service="split", preview_header=header)


def test_preview_of_tells_the_header_and_a_link():
    assert t.preview_of(route(service="split", domains=["a.example.com", "b.example.com"])) == {
        "header": "X-Sentinel-Canary: always",
        "link": "https://a.example.com/?sentinel-canary=1",
    }
    assert t.preview_of(route(service="split", tls=False))["link"] == "http://todo.example.com/?sentinel-canary=1"


def test_parse_route_without_router_is_none():
    assert t.parse_route(APP, {}) is None
    assert t.parse_route(APP, {"traefik.http.services.todo-prod.loadbalancer.server.port": "8000"}) is None


def test_parse_route_shows_hand_edited_values_raw():
    labels = t.build_labels(APP, route())
    labels["traefik.http.routers.todo.rule"] = "Host(`a.example.com`) && Path(`/x`)"
    labels["traefik.http.routers.todo.service"] = "other@file"
    parsed = t.parse_route(APP, labels)
    assert parsed["domains"] is None
    assert parsed["service"] == "other@file"


# -- ownership --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "owned"),
    [
        ("traefik.http.routers.todo.rule", True),
        ("traefik.http.routers.todo-http.rule", True),
        ("traefik.http.routers.todo.tls.certresolver", True),
        ("traefik.http.middlewares.todo-retry.retry.attempts", True),
        ("traefik.http.middlewares.todo-anything.headers.x", True),
        ("traefik.http.routers.todo2.rule", False),  # another app's router
        ("traefik.http.routers.todox-http.rule", False),
        ("traefik.http.middlewares.todo2-retry.retry.attempts", False),
        ("traefik.http.middlewares.todo.x", False),
        ("traefik.http.services.todo-prod.loadbalancer.server.port", False),
        ("traefik.enable", False),
        ("traefik.swarm.network", False),
        ("sentinel.app", False),
        ("com.example.team", False),
        ("traefik.tcp.routers.todo.rule", False),
    ],
)
def test_owned_labels(key, owned):
    assert t.is_owned_label(APP, key) is owned
    assert (key in t.owned_labels(APP, {key: "v"})) is owned


def test_replace_owned_labels_keeps_every_other_label():
    others = {
        "sentinel.app": "todo",
        "traefik.enable": "true",
        "traefik.http.services.todo-prod.loadbalancer.server.port": "8000",
        "traefik.http.routers.todo2.rule": "Host(`other.example.com`)",
        "com.example.note": "spaces, commas = and `backticks` stay as they are",
    }
    old = t.build_labels(APP, route(domains=["old.example.com"], middlewares=["x@file"]))
    new = t.build_labels(APP, route(tls=False))
    merged = t.replace_owned_labels(APP, {**others, **old}, new)
    assert merged == {**others, **new}
    assert t.replace_owned_labels(APP, {**others, **old}, {}) == others
    assert t.replace_owned_labels(APP, None, new) == new


def test_replace_owned_labels_refuses_foreign_keys():
    with pytest.raises(ValueError, match="not owned"):
        t.replace_owned_labels(APP, {}, {"sentinel.app": "x"})


# -- maintenance ------------------------------------------------------------------------
def test_maintenance_document_sends_every_request_to_the_page_above_every_router():
    on = route(maintenance=True, maintenance_message="Back at 14:30, <b>promise</b>, é", service="split")
    assert t.maintenance_document("todo", on) == {
        "http": {
            "routers": {
                "todo-maintenance": {
                    "rule": "Host(`todo.example.com`)",
                    "entryPoints": ["websecure"],
                    "service": "sentinel-maintenance@swarm",
                    "middlewares": ["todo-maintenance"],
                    "priority": 1000000000,
                    "tls": {"certResolver": "sentinel"},
                }
            },
            "middlewares": {
                "todo-maintenance": {
                    "headers": {
                        "customRequestHeaders": {
                            "X-Sentinel-Maintenance": "Back at 14:30%2C %3Cb%3Epromise%3C/b%3E%2C %C3%A9"
                        },
                        "customResponseHeaders": {"Retry-After": "300"},
                    }
                }
            },
        }
    }
    assert (
        t.maintenance_document("todo", route(service="split")) is None and t.maintenance_document("todo", None) is None
    )
    # NAME-prod's labels keep the record only, which Traefik does not read; the app's own routers stay as they were.
    labels, off = t.build_labels("todo", on), t.build_labels("todo", route(service="split"))
    assert {k: v for k, v in labels.items() if k not in off} == {
        "sentinel.maintenance.retry-after": "300",
        "sentinel.maintenance.message": "Back at 14:30%2C %3Cb%3Epromise%3C/b%3E%2C %C3%A9",
    }
    assert all(labels[k] == v for k, v in off.items())
    assert t.parse_route("todo", labels) == on
    assert all(t.is_owned_label("todo", k) for k in labels)


def test_maintenance_on_plain_http_and_with_the_page_s_own_words():
    on = route(tls=False, maintenance=True, maintenance_retry_after=60, maintenance_message="")
    document = t.maintenance_document("todo", on)
    router = document["http"]["routers"]["todo-maintenance"]
    assert router["entryPoints"] == ["web"] and "tls" not in router
    # Set empty: Traefik drops a client's own header of that name.
    page = document["http"]["middlewares"]["todo-maintenance"]["headers"]
    assert page == {
        "customRequestHeaders": {"X-Sentinel-Maintenance": ""},
        "customResponseHeaders": {"Retry-After": "60"},
    }
    assert on["maintenance_message"] is None and t.parse_route("todo", t.build_labels("todo", on)) == on


def test_maintenance_labels_from_before_the_document_still_mean_maintenance_and_convert():
    on = route(maintenance=True, maintenance_message="Back soon", maintenance_retry_after=60)
    old = {
        **t.build_labels("todo", route()),
        "traefik.http.routers.todo-maintenance.rule": "Host(`todo.example.com`)",
        "traefik.http.middlewares.todo-maintenance.headers.customresponseheaders.Retry-After": "60",
        "traefik.http.middlewares.todo-maintenance.headers.customrequestheaders.X-Sentinel-Maintenance": "Back soon",
    }
    assert t.parse_route("todo", old) == on
    converted = t.build_labels("todo", on)
    assert not any("todo-maintenance" in k for k in converted) and converted["sentinel.maintenance.retry-after"] == "60"


def test_a_document_s_text_is_json_in_one_stable_form():
    document = t.maintenance_document("todo", route(maintenance=True))
    text = t.render_document(document)
    assert json.loads(text) == document and text == t.render_document(json.loads(text)) and text.endswith("}\n")
    assert t.render_document(None) is None


def test_omitted_maintenance_options_keep_the_current_ones():
    current = route(maintenance=True, maintenance_message="Moving house", maintenance_retry_after=120)
    kept = t.effective_params({"maintenance_retry_after": 60}, current)
    assert route(**kept)["maintenance_message"] == "Moving house" and route(**kept)["maintenance_retry_after"] == 60
    off = route(**t.effective_params({"maintenance": False}, current))
    assert (off["maintenance"], off["maintenance_message"], off["maintenance_retry_after"]) == (False, None, None)
    again = route(**t.effective_params({"maintenance": True}, off))
    assert (again["maintenance_message"], again["maintenance_retry_after"]) == (None, 300)


def test_the_maintenance_middleware_is_the_module_s_own():
    with pytest.raises(t.RouteError, match="managed by traefik_route"):
        route(middlewares=["todo-maintenance"])
