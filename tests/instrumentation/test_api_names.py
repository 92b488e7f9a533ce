"""``wecom.api`` values: catalog paths always, junk paths capped."""

from __future__ import annotations

import threading

from opentelemetry.instrumentation.wecom._api_names import ApiNamer, known_apis


def test_catalog_is_shipped_and_has_the_common_apis() -> None:
    catalog = known_apis()
    assert len(catalog) > 300
    assert {"gettoken", "message/send", "webhook/send", "media/get", "user/get"} <= catalog


def test_names_come_from_the_path_after_cgi_bin() -> None:
    namer = ApiNamer(max_unknown=0)
    assert namer.name("/cgi-bin/message/send") == "message/send"
    assert namer.name("/cgi-bin/gettoken") == "gettoken"
    assert namer.name("/proxy/wecom/cgi-bin/user/get/") == "user/get"
    assert namer.name("/") == "_OTHER"
    assert namer.name("/cgi-bin/not/in/catalog") == "_OTHER"


def test_unknown_paths_are_capped() -> None:
    namer = ApiNamer(max_unknown=3)
    names = {namer.name(f"/cgi-bin/junk{i}") for i in range(1000)}
    assert names == {"junk0", "junk1", "junk2", "_OTHER"}
    assert namer.name("/cgi-bin/junk1") == "junk1"
    assert namer.name("/cgi-bin/message/send") == "message/send"


def test_malformed_paths_are_other() -> None:
    namer = ApiNamer(max_unknown=100)
    assert namer.name("/cgi-bin/a b") == "_OTHER"
    assert namer.name("/cgi-bin/" + "x" * 200) == "_OTHER"
    assert namer.name("/cgi-bin/../../etc/passwd") == "_OTHER"


def test_cap_holds_under_concurrency() -> None:
    namer = ApiNamer(max_unknown=10)
    seen: set[str] = set()
    lock = threading.Lock()

    def worker(offset: int) -> None:
        for i in range(200):
            name = namer.name(f"/cgi-bin/junk{offset}_{i}")
            with lock:
                seen.add(name)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen - {"_OTHER"}) == 10
