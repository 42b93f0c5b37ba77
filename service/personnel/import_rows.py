"""Validating the rows of a results file, a chunk at a time: ID number (check digit),
name, check type and result (Chinese or English spellings), dates, reference and
issuing authority. Row-level problems never quote an ID number or a name."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Any, NamedTuple

from schemas.text import INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE, bad_character
from service.identifiers import InvalidIdentifier, normalize_id_number
from service.personnel.import_cells import cell_key, cell_text, parse_date
from service.personnel.importfile import Chunk, Problem

CHECK_TYPE_NAMES = {
    "criminal_record": ("criminal_record", "违法犯罪记录查询", "违法犯罪记录", "犯罪记录查询", "无犯罪记录证明"),
    "sexual_offence_entry_query": (
        "sexual_offence_entry_query",
        "性侵违法犯罪信息入职查询",
        "性侵违法犯罪信息查询",
        "入职查询",
    ),
    "health_certificate": ("health_certificate", "健康证明", "健康证"),
    "conduct_reference": ("conduct_reference", "师德/品德考察", "师德考察", "品德考察"),
    "mental_health": ("mental_health", "心理健康评估", "心理健康"),
}
RESULT_NAMES = {
    "clear": ("clear", "无犯罪记录", "无违法犯罪记录", "未发现违法犯罪记录", "未发现", "无", "合格", "通过", "正常"),
    "adverse": ("adverse", "有犯罪记录", "有违法犯罪记录", "有记录", "有", "不合格", "未通过", "异常"),
    "pending": ("pending", "待查", "查询中", "核查中", "待定"),
}


CHECK_TYPE_LOOKUP = {cell_key(alias): value for value, aliases in CHECK_TYPE_NAMES.items() for alias in aliases}
RESULT_LOOKUP = {cell_key(alias): value for value, aliases in RESULT_NAMES.items() for alias in aliases}


class ParsedRow(NamedTuple):  # a tuple: made 100,000 times per large file
    row: int
    number: str  # normalised 18-character ID number
    name: str
    check_type: str
    result: str
    query_date: date
    reference: str
    valid_until: date | None
    issuing_authority: str


class RowValidator:
    def __init__(self, columns: dict[str, int], *, today: date, default_authority: str | None) -> None:
        self.columns = columns
        self.today = today
        self.default_authority = default_authority
        self.width = max(columns.values()) + 1
        # Cell text -> value: files repeat a handful of spellings, and each person's number
        # and name on every check of theirs, so each distinct cell is checked once.
        self._types: dict = {}
        self._results: dict = {}
        self._numbers: dict[str, str | InvalidIdentifier] = {}
        self._names: dict[str, str] = {}
        self._authorities: dict[str, bool] = {}  # authority -> passes the text rule

    def _lookup(self, cache: dict, table: dict, value: Any) -> str | None:
        try:
            return cache[value]
        except KeyError:
            found = cache[value] = table.get(cell_key(cell_text(value)))
            return found
        except TypeError:  # an unhashable cell: never from csv or calamine, but be safe
            return table.get(cell_key(cell_text(value)))

    def _number(self, raw: Any) -> str | InvalidIdentifier:
        """The normalised number of a cell, or why it is not one (remembered for text cells)."""
        number: str | InvalidIdentifier
        try:
            number = normalize_id_number(cell_text(raw), today=self.today)
        except InvalidIdentifier as error:
            number = error
        if type(raw) is str:
            self._numbers[raw] = number
        return number

    def __call__(self, chunk: Chunk) -> tuple[list[ParsedRow], list[Problem], int]:
        """Valid rows, the problems of the others, and how many rows were not blank."""
        rows: list[ParsedRow] = []
        blank = 0
        problems: list[Problem] = []
        c = self.columns
        i_id, i_name, i_type, i_result = c["id_number"], c["name"], c["check_type"], c["result"]
        i_date, i_ref = c["query_date"], c["reference"]
        i_until, i_auth = c.get("valid_until"), c.get("issuing_authority")
        today, width, default_authority = self.today, self.width, self.default_authority
        types, results, lookup = self._types, self._results, self._lookup
        numbers, names = self._numbers, self._names
        # The text rule, per column where it can be: when no reference cell of the chunk
        # holds a refused character (one search over them all), no row's needs checking;
        # authorities repeat, so each distinct one is checked once.
        references_clean = bad_character("".join(_texts(chunk, i_ref))) is None
        authorities = self._authorities
        for row_no, values in chunk:
            if not any(values):
                blank += 1
                continue
            if len(values) < width:
                values = list(values) + [None] * (width - len(values))
            bad = len(problems)
            raw_id = values[i_id]
            if isinstance(raw_id, (float, int)) and not isinstance(raw_id, bool):
                problems.append(
                    Problem(
                        row_no,
                        "id_number",
                        "invalid_id_number",
                        "身份证号码被存成了数字，精度已丢失：请将该列设为文本后重新导出",
                    )
                )
                number = ""
            else:
                found = numbers.get(raw_id) if type(raw_id) is str else None
                if found is None:
                    found = self._number(raw_id)
                if isinstance(found, InvalidIdentifier):
                    problems.append(Problem(row_no, "id_number", found.code, found.message))
                    number = ""
                else:
                    number = found
            name = values[i_name]
            name = name.strip() if type(name) is str else cell_text(name)
            if not name:
                problems.append(Problem(row_no, "name", "required", "姓名不能为空"))
            elif len(name) > 100:
                problems.append(Problem(row_no, "name", "too_long", "姓名不能超过 100 个字符"))
            else:
                cleaned = names.get(name)
                if cleaned is None:  # "" marks a name the text rule refuses
                    cleaned = names[name] = (
                        "" if bad_character(name) is not None else " ".join(unicodedata.normalize("NFKC", name).split())
                    )
                if not cleaned:
                    problems.append(Problem(row_no, "name", INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE))
                name = cleaned
            check_type = lookup(types, CHECK_TYPE_LOOKUP, values[i_type])
            if check_type is None:
                problems.append(
                    Problem(
                        row_no,
                        "check_type",
                        "invalid_check_type",
                        "查询类型无法识别（如：违法犯罪记录查询、性侵违法犯罪信息入职查询、健康证明）",
                    )
                )
            result = lookup(results, RESULT_LOOKUP, values[i_result])
            if result is None:
                problems.append(
                    Problem(
                        row_no,
                        "result",
                        "invalid_result",
                        "查询结果无法识别（如：无犯罪记录/clear、有犯罪记录/adverse、待查/pending）",
                    )
                )
            query_date = parse_date(values[i_date])
            if query_date is None:
                problems.append(Problem(row_no, "query_date", "invalid_date", "查询日期无效，格式如 2025-03-01"))
            elif query_date > today:
                problems.append(Problem(row_no, "query_date", "query_date_in_future", "查询日期不能晚于今天"))
            reference = values[i_ref]
            reference = reference.strip() if type(reference) is str else cell_text(reference)
            if not reference:
                problems.append(Problem(row_no, "reference", "required", "查询编号不能为空"))
            elif len(reference) > 100:
                problems.append(Problem(row_no, "reference", "too_long", "查询编号不能超过 100 个字符"))
            elif not references_clean and bad_character(reference) is not None:
                problems.append(Problem(row_no, "reference", INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE))
            valid_until = None
            if i_until is not None and cell_text(values[i_until]):
                valid_until = parse_date(values[i_until])
                if valid_until is None:
                    problems.append(Problem(row_no, "valid_until", "invalid_date", "有效期无效，格式如 2026-03-01"))
                elif query_date is not None and valid_until < query_date:
                    problems.append(Problem(row_no, "valid_until", "invalid_validity", "有效期不能早于查询日期"))
            authority = cell_text(values[i_auth]) if i_auth is not None else ""
            authority = authority or default_authority or ""
            if not authority:
                problems.append(
                    Problem(
                        row_no,
                        "issuing_authority",
                        "required",
                        "出具机关不能为空（可在文件中提供该列，或在导入时填写 issuing_authority）",
                    )
                )
            elif len(authority) > 200:
                problems.append(Problem(row_no, "issuing_authority", "too_long", "出具机关不能超过 200 个字符"))
            else:
                clean = authorities.get(authority)
                if clean is None:
                    clean = authorities[authority] = bad_character(authority) is None
                if not clean:
                    problems.append(
                        Problem(row_no, "issuing_authority", INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE)
                    )
            if len(problems) > bad and not any(v.strip() if type(v) is str else v is not None for v in values):
                del problems[bad:]  # only spaces: a blank line after all
                blank += 1
            # A row with no problem has each of these (a None was a problem): the checks narrow the types.
            elif len(problems) == bad and check_type is not None and result is not None and query_date is not None:
                rows.append(
                    ParsedRow(row_no, number, name, check_type, result, query_date, reference, valid_until, authority)
                )
        return rows, problems, len(chunk) - blank


def _texts(chunk: Chunk, column: int) -> Iterator[str]:
    """The text cells of one column of a chunk (other cells are numbers or dates)."""
    for _, values in chunk:
        if column < len(values):
            value = values[column]
            if type(value) is str:
                yield value
