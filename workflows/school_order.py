"""A school's order (点单) of a whitelisted service item for one term (§2(4)).

Read top to bottom: the school places the order; the vendor accepts or declines it;
the school may cancel it while it is placed or accepted. Whether an accepted order may
still be delivered is not a state: its standing (`in_force`, `at_risk`, `blocked`) is
derived when it is read, from the whitelist and the named people's clearance, as
clearance itself is (see service/orders/standing.py).
"""

from __future__ import annotations

from enum import StrEnum

from workflows.guards import GUARDS
from workflows.roles import RoleTag
from workflows.table import Transition, Workflow


class OrderState(StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class OrderAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"


PLACED, ACCEPTED, DECLINED, CANCELLED = OrderState
#: The states in which an order still binds the school and the vendor.
OPEN_STATES = frozenset({PLACED, ACCEPTED})

SCHOOL = frozenset({RoleTag.SCHOOL})
VENDOR = frozenset({RoleTag.VENDOR})

T = Transition

SCHOOL_ORDER = Workflow(
    name="school_order",
    states=tuple(OrderState),
    initial=PLACED,
    final_states=frozenset({DECLINED, CANCELLED}),
    roles=tuple(RoleTag),
    known_guards=GUARDS,
    state_labels={PLACED: "已下单待机构确认", ACCEPTED: "机构已接单", DECLINED: "机构已拒绝", CANCELLED: "学校已取消"},
    action_labels={OrderAction.ACCEPT: "接单", OrderAction.DECLINE: "拒绝订单", OrderAction.CANCEL: "取消订单"},
    transitions=(
        # The vendor answers the school's order.
        T("accept", PLACED, ACCEPTED, VENDOR),
        T("decline", PLACED, DECLINED, VENDOR, requires_reason=True),
        # The school may withdraw its order, before or after the vendor took it.
        T("cancel", PLACED, CANCELLED, SCHOOL, requires_reason=True),
        T("cancel", ACCEPTED, CANCELLED, SCHOOL, requires_reason=True),
    ),
)
