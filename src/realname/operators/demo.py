"""A demo operator for a new user's first minutes (``make run``): one outlet, one user per role, a number block.

Passwords are printed once by the CLI; the database and keyring are local files. Never for production.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from realname.context import SYSTEM, Services
from realname.operators import admin
from realname.registry.tables import Operator

DEMO_PASSWORD = "demo-pass-123"
DEMO_USERS = (("agent1", "agent"), ("super1", "supervisor"), ("admin1", "operator_admin"),
              ("inspector1", "inspector"), ("auditor1", "auditor"))


@dataclass(frozen=True)
class Demo:
    operator_id: str
    outlet_id: str
    users: dict[str, str]  # username -> user id
    numbers: int


def seed_demo(svc: Services, numbers: int = 200, first: int = 19_800_000_000) -> Demo | None:
    """Create the demo data; None when the demo operator already exists."""
    with svc.db.read() as s:
        if s.execute(select(Operator).where(Operator.code == "DEMO")).scalar_one_or_none() is not None:
            return None
    # A newcomer's browser has no enrolled kiosk: the demo operator accepts any (the kiosk page says so).
    op = admin.create_operator(svc, SYSTEM, "DEMO", "演示电信 Demo Telecom", "basic", 5,
                               settings={"require_enrolled_kiosks": False})
    outlet = admin.create_outlet(svc, SYSTEM, "DEMO-001", "演示营业厅 Demo outlet", "110105", operator_id=op.id)
    users = {}
    for username, role in DEMO_USERS:
        user = admin.create_user(svc, SYSTEM, username, DEMO_PASSWORD, role, operator_id=op.id,
                                 outlet_id=outlet.id if role in ("agent", "supervisor") else None)
        users[username] = user.id
    block = "msisdn\n" + "".join(f"+86{first + i}\n" for i in range(numbers))
    added = admin.import_numbers(svc, SYSTEM, block, operator_id=op.id).added
    return Demo(op.id, outlet.id, users, added)
