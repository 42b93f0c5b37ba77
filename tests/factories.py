"""Valid payloads to start from; tests change one thing at a time."""

from __future__ import annotations

import itertools

from tests.identifiers.make import make_credit_code

_serial = itertools.count(1)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n" + b"0" * 64


def credit_code(region: str = "360104") -> str:
    """A fresh valid code; its embedded organisation code has a valid check char."""
    from tests.identifiers.make import make_credit_code_with_org

    n = next(_serial)
    return make_credit_code_with_org("91" + region, f"MA{n:06d}")


def vendor_payload(**overrides) -> dict:
    payload = {
        "credit_code": credit_code(overrides.get("region_code", "360104")),
        "name": "南昌启明星科技教育服务有限公司",
        "org_type": "enterprise",
        "region_code": "360104",
        "address": "南昌市青云谱区洪都中大道 88 号",
        "contact_name": "刘晓燕",
        "contact_phone": "0791-88123456",
        "legal_representative": "陈建国",
        "public_welfare_pledge": True,
    }
    payload.update(overrides)
    return payload


def document_form(**overrides) -> dict:
    form = {
        "doc_type": "business_license",
        "number": "NC-2024-001",
        "issuer": "南昌市市场监督管理局",
        "valid_from": "2024-01-01",
        "valid_until": "2030-12-31",
    }
    form.update(overrides)
    return form


def service_item_payload(**overrides) -> dict:
    payload = {
        "category_code": 2,
        "activity": "少儿机器人编程",
        "description": "以积木式机器人为载体，学习传感器与简单编程，每次课 90 分钟。",
        "grade_bands": ["upper_primary", "junior_secondary"],
        "fee": 3000,
        "fee_unit": "per_session",
        "max_class_size": 30,
        "venue": "学校科学教室",
    }
    payload.update(overrides)
    return payload


__all__ = [
    "JPEG",
    "PDF",
    "PNG",
    "credit_code",
    "document_form",
    "make_credit_code",
    "service_item_payload",
    "vendor_payload",
]
