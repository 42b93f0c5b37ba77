"""Reading a results file from the public-security query: CSV or XLSX, row by row.

No database here: this module turns bytes into validated rows and row-level problems.
It never holds more than one chunk of parsed rows, and never writes an ID number or
a name into a problem message.

Accepted:
- CSV in UTF-8 (with or without BOM) or GB18030 (tried in that order), comma-separated;
  XLSX (first worksheet, read with calamine; spreadsheet dates are taken as dates).
  Row numbers are those of the file; the header is the first row that is not blank.
- Headers, Chinese or English (case, spaces and `*` ignored); unknown columns are ignored:

  | column | accepted headers |
  | --- | --- |
  | id_number | 身份证号, 身份证号码, 公民身份号码, 证件号码, id_number |
  | name | 姓名, name |
  | check_type | 查询类型, 核查类型, 类型, check_type |
  | result | 查询结果, 核查结果, 结果, result |
  | query_date | 查询日期, 核查日期, query_date |
  | reference | 查询编号, 回执编号, 编号, reference |
  | valid_until (optional) | 有效期至, 有效期, valid_until |
  | issuing_authority (optional) | 出具机关, 查询机关, issuing_authority |
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from schemas.text import INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE, bad_character
from service.errors import InvalidInput
from service.identifiers import InvalidIdentifier, normalize_id_number

MAX_REPORTED_PROBLEMS = 1000
XLSX_MAGIC = b"PK\x03\x04"

HEADERS = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number", "idnumber"),
    "name": ("姓名", "name"),
    "check_type": ("查询类型", "核查类型", "类型", "check_type"),
    "result": ("查询结果", "核查结果", "结果", "result"),
    "query_date": ("查询日期", "核查日期", "query_date"),
    "reference": ("查询编号", "回执编号", "编号", "reference"),
    "valid_until": ("有效期至", "有效期", "valid_until"),
    "issuing_authority": ("出具机关", "查询机关", "issuing_authority"),
}
REQUIRED_COLUMNS = ("id_number", "name", "check_type", "result", "query_date", "reference")

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


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("*", "").lower().lstrip("\ufeff")


HEADER_LOOKUP = {_key(alias): column for column, aliases in HEADERS.items() for alias in aliases}
CHECK_TYPE_LOOKUP = {_key(alias): value for value, aliases in CHECK_TYPE_NAMES.items() for alias in aliases}
RESULT_LOOKUP = {_key(alias): value for value, aliases in RESULT_NAMES.items() for alias in aliases}

DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.column,
            "code": self.code,
            "message": self.message,
        }


class ImportRejected(InvalidInput):
    """The file, or some of its rows, cannot be imported; nothing was stored."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems[:MAX_REPORTED_PROBLEMS]
        self.total = len(problems) if total is None else total
        first = problems[0] if problems else None
        message = (
            f"导入文件有 {self.total} 处错误，未导入任何记录"
            if self.total != 1 or first is None
            else f"第 {first.row} 行 {first.column}：{first.message}；未导入任何记录"
        )
        errors = [{"row": p.row, "column": p.column, "code": p.code, "message": p.message} for p in self.problems]
        super().__init__(
            message,
            code="import_rejected",
            details=[p.as_dict() for p in self.problems],
            extra={"imported": 0, "errors": errors, "errors_total": self.total},
        )


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


# -- opening -----------------------------------------------------------------------------


class ResultsFile:
    """The rows of an uploaded file, after its header was understood."""

    def __init__(self, content: bytes, required: tuple[str, ...] = REQUIRED_COLUMNS) -> None:
        self.required = required
        if not content.strip():
            raise ImportRejected([Problem(1, "file", "empty_file", "文件为空")])
        if content.startswith(XLSX_MAGIC):
            self.kind, rows, self.rows_total = "xlsx", *self._open_xlsx(content)
        else:
            self.kind, rows, self.rows_total = "csv", *self._open_csv(content)
        self._rows = rows
        header: list | tuple = ()
        for _, header in self._rows:  # the header is the first row that is not blank
            if any(_text(cell) for cell in header):
                break
        self.columns = self._columns(header or (), required)

    @staticmethod
    def _open_csv(content: bytes) -> tuple[Iterator[tuple[int, list]], int]:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise ImportRejected(
                    [
                        Problem(
                            1,
                            "file",
                            "unreadable_encoding",
                            "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 XLSX",
                        )
                    ]
                ) from None
        del content
        rows_total = max(text.count("\n") + (0 if text.endswith("\n") else 1) - 1, 0)
        return enumerate(csv.reader(io.StringIO(text)), start=1), rows_total

    @staticmethod
    def _open_xlsx(content: bytes) -> tuple[Iterator[tuple[int, list]], int]:
        # calamine (Rust) reads a 100,000-row sheet in ~1 s where openpyxl took ~15 s.
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        except (CalamineError, IndexError, ValueError):
            raise ImportRejected([Problem(1, "file", "unreadable_file", "无法读取该 XLSX 文件")]) from None
        # Rows come from the sheet's first row (leading blank rows included), so row
        # numbers are the file's; columns from the first used one, headers included.
        rows_total = sheet.end[0] if sheet.end else 0
        return enumerate(sheet.iter_rows(), start=1), rows_total

    @staticmethod
    def _columns(header: list | tuple, required: tuple[str, ...] = REQUIRED_COLUMNS) -> dict[str, int]:
        columns: dict[str, int] = {}
        for position, title in enumerate(header):
            column = HEADER_LOOKUP.get(_key(str(title))) if title is not None else None
            if column and column not in columns:
                columns[column] = position
        missing = [c for c in required if c not in columns]
        if missing:
            raise ImportRejected(
                [
                    Problem(1, column, "missing_column", f"缺少必需的列（可用列名：{'、'.join(HEADERS[column][:2])}）")
                    for column in missing
                ]
            )
        return columns

    def chunks(self, size: int) -> Iterator[list[tuple[int, list | tuple]]]:
        chunk: list[tuple[int, list | tuple]] = []
        for item in self._rows:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


# -- validating -----------------------------------------------------------------------------


def _text(value: Any) -> str:  # a cell: whatever the csv or xlsx reader gives
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """A date cell: a spreadsheet date, or text as 2025-03-01, 2025/3/1, 2025.03.01,
    20250301 or 2025年3月1日. None if it is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        match = DATE_TEXT.match(text) or DATE_COMPACT.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


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

    def _lookup(self, cache: dict, table: dict, value: Any) -> str | None:
        try:
            return cache[value]
        except KeyError:
            found = cache[value] = table.get(_key(_text(value)))
            return found
        except TypeError:  # an unhashable cell: never from csv or calamine, but be safe
            return table.get(_key(_text(value)))

    def _number(self, raw: Any) -> str | InvalidIdentifier:
        """The normalised number of a cell, or why it is not one (remembered for text cells)."""
        number: str | InvalidIdentifier
        try:
            number = normalize_id_number(_text(raw), today=self.today)
        except InvalidIdentifier as error:
            number = error
        if type(raw) is str:
            self._numbers[raw] = number
        return number

    def __call__(self, chunk: list[tuple[int, list | tuple]]) -> tuple[list[ParsedRow], list[Problem], int]:
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
            name = name.strip() if type(name) is str else _text(name)
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
            reference = reference.strip() if type(reference) is str else _text(reference)
            if not reference:
                problems.append(Problem(row_no, "reference", "required", "查询编号不能为空"))
            elif len(reference) > 100:
                problems.append(Problem(row_no, "reference", "too_long", "查询编号不能超过 100 个字符"))
            elif bad_character(reference) is not None:
                problems.append(Problem(row_no, "reference", INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE))
            valid_until = None
            if i_until is not None and _text(values[i_until]):
                valid_until = parse_date(values[i_until])
                if valid_until is None:
                    problems.append(Problem(row_no, "valid_until", "invalid_date", "有效期无效，格式如 2026-03-01"))
                elif query_date is not None and valid_until < query_date:
                    problems.append(Problem(row_no, "valid_until", "invalid_validity", "有效期不能早于查询日期"))
            authority = _text(values[i_auth]) if i_auth is not None else ""
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
            elif bad_character(authority) is not None:
                problems.append(Problem(row_no, "issuing_authority", INVALID_CHARACTERS, INVALID_CHARACTERS_MESSAGE))
            if len(problems) > bad and not any(v.strip() if type(v) is str else v is not None for v in values):
                del problems[bad:]  # only spaces: a blank line after all
                blank += 1
            # A row with no problem has each of these (a None was a problem): the checks narrow the types.
            elif len(problems) == bad and check_type is not None and result is not None and query_date is not None:
                rows.append(
                    ParsedRow(row_no, number, name, check_type, result, query_date, reference, valid_until, authority)
                )
        return rows, problems, len(chunk) - blank


# -- a list of people (a school's roster): the import's columns, only number and name needed --


class PersonLine(NamedTuple):
    row: int  # the file's row number
    id_number: str  # the cell's text, not yet validated
    name: str


def read_people(content: bytes, *, limit: int) -> list[PersonLine]:
    """The people of a file with the import's columns (身份证号, 姓名; the other columns
    are ignored), blank rows skipped. More than `limit` people → a file problem."""
    file = ResultsFile(content, required=("id_number", "name"))
    number_at, name_at = file.columns["id_number"], file.columns["name"]
    lines: list[PersonLine] = []
    for chunk in file.chunks(1000):
        for row, cells in chunk:
            texts = [_text(cell) for cell in cells]
            if not any(texts):  # (the header was read when the file was opened)
                continue
            lines.append(
                PersonLine(
                    row,
                    texts[number_at] if number_at < len(texts) else "",
                    texts[name_at] if name_at < len(texts) else "",
                )
            )
            if len(lines) > limit:
                raise ImportRejected([Problem(row, "file", "too_many_rows", f"一次最多核验 {limit} 人，请分批上传")])
    if not lines:
        raise ImportRejected([Problem(1, "file", "no_rows", "文件中没有人员（第一行为列名，其后每行一人）")])
    return lines
