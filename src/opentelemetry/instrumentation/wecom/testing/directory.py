"""The mock corp's contacts: who message/send can reach, and what user/get and user/list return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Directory:
    """Known members, departments, tags and app chats.

    ``unlicensed_users`` exist but lack an interface license (``unlicenseduser`` in message/send).
    ``user_list_size`` is how many members ``user/list`` returns for a known department (real
    members first, then synthetic ``user0001``…) so tests can ask for large bodies.
    """

    users: tuple[str, ...] = ("zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi")
    unlicensed_users: tuple[str, ...] = ("qianba",)
    departments: tuple[int, ...] = (1, 2, 3)
    tags: tuple[int, ...] = (1, 2)
    chats: tuple[str, ...] = ("wrchat0001",)
    user_list_size: int = 200

    def has_user(self, userid: str) -> bool:
        lowered = userid.lower()
        return any(u.lower() == lowered for u in (*self.users, *self.unlicensed_users))

    def is_unlicensed(self, userid: str) -> bool:
        return userid.lower() in {u.lower() for u in self.unlicensed_users}

    def member(self, userid: str, department: int = 1) -> dict[str, Any]:
        """The user/get body for one member (without errcode/errmsg)."""
        return {
            "userid": userid,
            "name": userid.capitalize(),
            "department": [department],
            "order": [0],
            "position": "Engineer",
            "status": 1,
            "isleader": 0,
            "is_leader_in_dept": [0],
            "direct_leader": [],
            "enable": 1,
            "main_department": department,
            "alias": "",
            "extattr": {"attrs": []},
            "external_position": "",
        }

    def members(self, department: int) -> list[dict[str, Any]]:
        real = [*self.users, *self.unlicensed_users]
        ids = real[: self.user_list_size] + [
            f"user{i:04d}" for i in range(1, self.user_list_size - len(real) + 1)
        ]
        return [self.member(userid, department) for userid in ids]
