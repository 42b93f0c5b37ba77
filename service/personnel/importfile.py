"""Reading a results file from the public-security query: CSV or XLSX, row by row.

No database here: this module opens the file and finds its columns; `import_rows`
validates its rows a chunk at a time, `import_cells` reads single cells. It never holds
more than one chunk of parsed rows, and never writes an ID number or a name into a
problem message.

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

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, cast

from service.errors import InvalidInput
from service.personnel.import_cells import cell_key, cell_text

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

HEADER_LOOKUP = {cell_key(alias): column for column, aliases in HEADERS.items() for alias in aliases}


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


#: A row as the reader gives it (the file's row number, its cells), and a chunk of them.
RawRow = tuple[int, list[Any] | tuple[Any, ...]]
Chunk = list[RawRow]


# -- opening -----------------------------------------------------------------------------


class ResultsFile:
    """The rows of an uploaded file, after its header was understood.

    `source` is the file's bytes or, better, the binary file they were spooled to (the
    upload as it arrived): a CSV is then decoded a block at a time as its rows are read,
    never held whole in memory. The file is read from its start; it is left open."""

    def __init__(self, source: bytes | IO[bytes], required: tuple[str, ...] = REQUIRED_COLUMNS) -> None:
        self.required = required
        file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        file.seek(0)
        if file.read(len(XLSX_MAGIC)) == XLSX_MAGIC:
            file.seek(0)
            self.kind, rows, self.rows_total = "xlsx", *self._open_xlsx(file)
        else:
            file.seek(0)
            self.kind, rows, self.rows_total = "csv", *self._open_csv(file)
        self._rows = rows
        header: list | tuple = ()
        for _, header in self._rows:  # the header is the first row that is not blank
            if any(cell_text(cell) for cell in header):
                break
        self.columns = self._columns(header or (), required)

    @staticmethod
    def _open_csv(file: IO[bytes]) -> tuple[Iterator[tuple[int, list]], int]:
        encoding, lines = _text_encoding(file)
        return _csv_rows(file, encoding), max(lines - 1, 0)

    @staticmethod
    def _open_xlsx(file: IO[bytes]) -> tuple[Iterator[tuple[int, list]], int]:
        # calamine (Rust) reads a 100,000-row sheet in ~1 s where openpyxl took ~15 s.
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_filelike(file).get_sheet_by_index(0)
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
            column = HEADER_LOOKUP.get(cell_key(str(title))) if title is not None else None
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

    def chunks(self, size: int) -> Iterator[Chunk]:
        chunk: Chunk = []
        for item in self._rows:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


SCAN_BLOCK = 1024 * 1024
UNREADABLE_ENCODING = Problem(
    1, "file", "unreadable_encoding", "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 XLSX"
)


def _text_encoding(file: IO[bytes]) -> tuple[str, int]:
    """The encoding a CSV decodes in (UTF-8, with or without BOM, else GB18030) and its
    number of lines, from one pass over the file a block at a time (decoded, not kept);
    the file is rewound. A file of nothing but blanks is `empty_file`."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        newlines, last, blank = 0, b"", True
        try:
            while block := file.read(SCAN_BLOCK):
                decoder.decode(block)
                newlines += block.count(b"\n")  # 0x0A is never part of a multi-byte character in either
                blank = blank and not block.strip()
                last = block[-1:]
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            file.seek(0)
            continue
        file.seek(0)
        if blank:
            raise ImportRejected([Problem(1, "file", "empty_file", "文件为空")])
        return encoding, newlines + (0 if last == b"\n" else 1)
    raise ImportRejected([UNREADABLE_ENCODING])


def _csv_rows(file: IO[bytes], encoding: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV, numbered from 1, decoded as they are read. The file stays
    open for its owner (the upload), whatever happens to this reader."""
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        yield from enumerate(csv.reader(text), start=1)
    finally:
        try:
            text.detach()
        except ValueError:  # the upload was closed first: nothing left to keep open
            pass


def upload_digest(source: bytes | IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 (hex) of an uploaded file, read in blocks; the file is rewound."""
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    file.seek(0)
    digest = hashlib.file_digest(cast(Any, file), "sha256").hexdigest()  # IO[bytes] is not typed with readinto
    size = file.tell()
    file.seek(0)
    return size, digest


# -- a list of people (a school's roster): the import's columns, only number and name needed --


class PersonLine(NamedTuple):
    row: int  # the file's row number
    id_number: str  # the cell's text, not yet validated
    name: str


def read_people(content: bytes | IO[bytes], *, limit: int) -> list[PersonLine]:
    """The people of a file with the import's columns (身份证号, 姓名; the other columns
    are ignored), blank rows skipped. More than `limit` people → a file problem."""
    file = ResultsFile(content, required=("id_number", "name"))
    number_at, name_at = file.columns["id_number"], file.columns["name"]
    lines: list[PersonLine] = []
    for chunk in file.chunks(1000):
        for row, cells in chunk:
            texts = [cell_text(cell) for cell in cells]
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
