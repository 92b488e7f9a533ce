"""API behaviour: message/send partial failures, appchat, contacts, media, webhook."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import Directory, MockWeComServer


def send(client: httpx.Client, token: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.post(
        "message/send", params={"access_token": token}, json=body
    ).json()
    return result


def text(agent_id: int, content: str = "hello", **targets: str) -> dict[str, Any]:
    return {"msgtype": "text", "agentid": agent_id, "text": {"content": content}, **targets}


def test_message_send_ok_has_msgid_and_no_invalid_fields(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    body = send(client, token, text(wecom_mock.agent_id, touser="zhangsan|LiSi"))
    assert body["errcode"] == 0
    assert body["errmsg"] == "ok"
    assert len(body["msgid"]) > 40
    assert not {"invaliduser", "invalidparty", "invalidtag", "unlicenseduser"} & body.keys()


def test_message_send_partial_failure(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    body = send(
        client,
        token,
        text(wecom_mock.agent_id, touser="zhangsan|Ghost|qianba", toparty="2|99", totag="1|42"),
    )
    assert body["errcode"] == 0
    assert body["invaliduser"] == "ghost"  # WeCom lower-cases invalid userids
    assert body["invalidparty"] == "99"
    assert body["invalidtag"] == "42"
    assert body["unlicenseduser"] == "qianba"
    assert body["msgid"]


def test_message_send_all_invalid_is_81013(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    body = send(client, token, text(wecom_mock.agent_id, touser="a|b", toparty="77"))
    assert body["errcode"] == 81013
    assert body["errmsg"].startswith("user & party & tag all invalid, hint: [")
    assert body["invaliduser"] == "a|b"
    assert body["invalidparty"] == "77"


def test_message_send_to_all(wecom_mock: MockWeComServer, client: httpx.Client, token: str) -> None:
    assert send(client, token, text(wecom_mock.agent_id, touser="@all"))["errcode"] == 0


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"msgtype": "text", "agentid": 1000002, "text": {"content": "x"}}, 82001),
        ({"msgtype": "text", "agentid": 1000002, "touser": "zhangsan"}, 44004),
        (
            {"msgtype": "text", "agentid": 1000002, "touser": "zhangsan", "text": {"content": ""}},
            44004,
        ),
        (
            {
                "msgtype": "text",
                "agentid": 1000002,
                "touser": "zhangsan",
                "text": {"content": "x" * 2049},
            },
            45002,
        ),
        ({"msgtype": "bogus", "agentid": 1000002, "touser": "zhangsan"}, 40008),
        ({"agentid": 1000002, "touser": "zhangsan"}, 40008),
        ({"msgtype": "text", "touser": "zhangsan", "text": {"content": "x"}}, 41011),
        (
            {"msgtype": "text", "agentid": "abc", "touser": "zhangsan", "text": {"content": "x"}},
            40056,
        ),
        ({"msgtype": "text", "agentid": 7, "touser": "zhangsan", "text": {"content": "x"}}, 301002),
        (
            {
                "msgtype": "text",
                "agentid": 1000002,
                "touser": "|".join(f"u{i}" for i in range(1001)),
                "text": {"content": "x"},
            },
            40032,
        ),
        (
            {
                "msgtype": "text",
                "agentid": 1000002,
                "toparty": "|".join(map(str, range(101))),
                "text": {"content": "x"},
            },
            82002,
        ),
    ],
)
def test_message_send_validation(
    client: httpx.Client, token: str, body: dict[str, Any], errcode: int
) -> None:
    assert send(client, token, body)["errcode"] == errcode


def test_message_send_bad_json_and_wrong_method(client: httpx.Client, token: str) -> None:
    bad = client.post("message/send", params={"access_token": token}, content=b"{not json")
    assert bad.json()["errcode"] == 40058
    assert client.get("message/send", params={"access_token": token}).json()["errcode"] == 40058


def test_directory_is_configurable() -> None:
    directory = Directory(users=("alice",), unlicensed_users=(), departments=(5,), tags=())
    with (
        MockWeComServer(directory=directory) as mock,
        httpx.Client(base_url=mock.api_base_url) as c,
    ):
        body = c.post(
            "message/send",
            params={"access_token": mock.access_token()},
            json=text(mock.agent_id, touser="alice|zhangsan", toparty="5"),
        ).json()
        assert body["errcode"] == 0
        assert body["invaliduser"] == "zhangsan"


def test_appchat_send(client: httpx.Client, token: str) -> None:
    params = {"access_token": token}
    ok = client.post(
        "appchat/send",
        params=params,
        json={"chatid": "wrchat0001", "msgtype": "text", "text": {"content": "hi"}},
    )
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}
    missing = client.post(
        "appchat/send",
        params=params,
        json={"chatid": "nope", "msgtype": "text", "text": {"content": "hi"}},
    )
    assert missing.json()["errcode"] == 86003
    empty = client.post(
        "appchat/send",
        params=params,
        json={"chatid": "wrchat0001", "msgtype": "text", "text": {"content": ""}},
    )
    assert empty.json()["errcode"] == 44004


def test_user_get(client: httpx.Client, token: str) -> None:
    params = {"access_token": token}
    user = client.get("user/get", params={**params, "userid": "zhangsan"}).json()
    assert user["errcode"] == 0
    assert user["userid"] == "zhangsan"
    assert user["department"] == [1]
    unknown = client.get("user/get", params={**params, "userid": "ghost"}).json()
    assert unknown["errcode"] == 60111
    assert unknown["errmsg"].startswith("invalid string value `ghost`. userid not found, hint: [")
    assert unknown["department"] == []
    assert unknown["order"] == []
    assert client.get("user/get", params=params).json()["errcode"] == 41009


def test_user_list_large_body_and_configurable_size(client: httpx.Client, token: str) -> None:
    reply = client.get("user/list", params={"access_token": token, "department_id": "1"})
    body = reply.json()
    assert body["errcode"] == 0
    assert len(body["userlist"]) == 200
    assert len(reply.content) > 40_000
    simple = client.get("user/simplelist", params={"access_token": token, "department_id": "2"})
    assert set(simple.json()["userlist"][0]) == {"userid", "name", "department"}
    bad = client.get("user/list", params={"access_token": token, "department_id": "999"}).json()
    assert bad["errcode"] == 60123
    assert bad["userlist"] == []
    with MockWeComServer(directory=Directory(user_list_size=3000)) as mock:
        big = httpx.get(
            mock.api_base_url + "user/list",
            params={"access_token": mock.access_token(), "department_id": "1"},
        )
        assert len(big.json()["userlist"]) == 3000
        assert int(big.headers["content-length"]) == len(big.content) > 500_000


def test_department_list(client: httpx.Client, token: str) -> None:
    body = client.get("department/list", params={"access_token": token}).json()
    assert [d["id"] for d in body["department"]] == [1, 2, 3]


def upload(
    client: httpx.Client, token: str, data: bytes, media_type: str = "image"
) -> httpx.Response:
    return client.post(
        "media/upload",
        params={"access_token": token, "type": media_type},
        files={"media": ("photo.png", data, "image/png")},
    )


def test_media_upload_then_get(client: httpx.Client, token: str) -> None:
    data = bytes(range(256)) * 8
    body = upload(client, token, data).json()
    assert body["errcode"] == 0
    assert body["errmsg"] == ""
    assert body["type"] == "image"
    assert isinstance(body["created_at"], str)
    assert body["created_at"].isdigit()
    media = client.get("media/get", params={"access_token": token, "media_id": body["media_id"]})
    assert media.status_code == 200
    assert media.content == data
    assert media.headers["content-type"] == "image/png"
    assert media.headers["content-disposition"] == 'attachment; filename="photo.png"'
    assert media.headers["content-length"] == str(len(data))
    assert media.headers["accept-ranges"] == "bytes"


def test_media_get_range(wecom_mock: MockWeComServer, client: httpx.Client, token: str) -> None:
    data = bytes(range(256)) * 8
    media_id = wecom_mock.add_media(data, "clip.bin", "application/octet-stream", "file")
    params = {"access_token": token, "media_id": media_id}
    part = client.get("media/get", params=params, headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 0-1023/{len(data)}"
    assert part.content == data[:1024]
    tail = client.get("media/get", params=params, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206
    assert tail.content == data[-10:]
    beyond = client.get("media/get", params=params, headers={"Range": "bytes=99999-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_media_get_errors_are_json(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    bad = client.get("media/get", params={"access_token": token, "media_id": "nope"})
    assert bad.status_code == 200
    assert bad.headers["content-type"] == "application/json; charset=UTF-8"
    assert bad.json()["errcode"] == 40007
    assert client.get("media/get", params={"access_token": token}).json()["errcode"] == 41006
    huge = wecom_mock.add_media(
        b"\0" * (20 * 2**20 + 1), "big.bin", "application/octet-stream", "file"
    )
    params = {"access_token": token, "media_id": huge}
    assert client.get("media/get", params=params).json()["errcode"] == 830002
    assert (
        client.get("media/get", params=params, headers={"Range": "bytes=0-99"}).status_code == 206
    )


def test_media_upload_errors(client: httpx.Client, token: str) -> None:
    assert upload(client, token, b"0123456789", media_type="pdf").json()["errcode"] == 40005
    assert upload(client, token, b"tiny").json()["errcode"] == 40006
    no_media = client.post(
        "media/upload",
        params={"access_token": token, "type": "file"},
        files={"other": ("a.txt", b"0123456789", "text/plain")},
    )
    assert no_media.json()["errcode"] == 44001


def test_webhook_send(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    message = {"msgtype": "markdown", "markdown": {"content": "**deploy** done"}}
    ok = client.post("webhook/send", params={"key": wecom_mock.webhook_key}, json=message)
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}
    bad_key = client.post(
        "webhook/send", params={"key": "00000000-0000-4000-8000-000000000000"}, json=message
    ).json()
    assert bad_key["errcode"] == 93000
    assert bad_key["errmsg"].startswith("invalid webhook url, hint: [")
    malformed = client.post("webhook/send", params={"key": "xyz"}, json=message).json()
    assert malformed["errcode"] == 40058
    assert malformed["errmsg"].startswith("invalid param 'key'")
    bad_type = client.post(
        "webhook/send", params={"key": wecom_mock.webhook_key}, json={"msgtype": "nope"}
    ).json()
    assert bad_type["errcode"] == 40008


def test_webhook_limit_is_20_per_minute_per_robot(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    message = {"msgtype": "text", "text": {"content": "ping"}}
    codes = [
        client.post("webhook/send", params={"key": wecom_mock.webhook_key}, json=message).json()[
            "errcode"
        ]
        for _ in range(22)
    ]
    assert codes == [0] * 20 + [45009, 45009]


def test_media_store_forgets_the_oldest_beyond_its_budget() -> None:
    from opentelemetry.instrumentation.wecom.testing.media import MediaStore

    store = MediaStore(max_bytes=100)
    first = store.add("file", "a", "application/octet-stream", b"x" * 60)
    second = store.add("file", "b", "application/octet-stream", b"y" * 60)
    assert store.get(first.media_id) is None
    assert store.get(second.media_id) is not None
    assert second.filename == "b.bin"
