"""Qualification documents: metadata in PostgreSQL, bytes in content-addressed storage."""

from service.documents.models import DOC_TYPES, Document
from service.documents.services import (
    DocumentInput,
    EndingDocument,
    check_file,
    document_status,
    documents_by_ids,
    documents_ending,
    documents_ending_on,
    list_documents,
    read_document_file,
    safe_filename,
    upload_document,
)
from service.documents.storage import BlobStorage, LocalBlobStorage

__all__ = [
    "BlobStorage",
    "check_file",
    "DOC_TYPES",
    "Document",
    "document_status",
    "DocumentInput",
    "documents_by_ids",
    "documents_ending",
    "documents_ending_on",
    "EndingDocument",
    "list_documents",
    "LocalBlobStorage",
    "read_document_file",
    "safe_filename",
    "upload_document",
]
