"""Printing: the documents a bureau publishes and a school keeps, as PDF/A-3b.

The front door for the document edge (service/printing/controllers.py) and anyone who
needs a PDF: build a `Job` (a template and plain data), `await render(job)`.
Rendering happens in the render pool's processes with a time limit (`pool.py`, bounds in
`rendering.py`); the one renderer is `engine.py`; how documents write dates, money and roles
is `words.py`.
"""

from __future__ import annotations

from service.printing.engine import Attachment, Job
from service.printing.letters import application_letter
from service.printing.pdffile import NotOurPdf, attachment, is_pdf, printed_text
from service.printing.pool import RenderUnavailable
from service.printing.receipt import receipt_pdf
from service.printing.rendering import check_size, configure, render
from service.printing.timetable import timetable_job

__all__ = [
    "application_letter",
    "Attachment",
    "attachment",
    "check_size",
    "configure",
    "is_pdf",
    "Job",
    "NotOurPdf",
    "printed_text",
    "receipt_pdf",
    "render",
    "RenderUnavailable",
    "timetable_job",
]
