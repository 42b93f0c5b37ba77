"""Personnel's answers as the API shapes: each row or view → its `schemas.personnel`
struct, and the encoders an idempotent reply stores."""

from __future__ import annotations

from schemas.personnel import (
    BarLiftOut,
    CertificateOut,
    CheckOut,
    CheckStatusOut,
    ConsentOut,
    EngagementOut,
    ImportJobOut,
    ImportOut,
    ImportProblemOut,
    PersonOut,
    RosterItem,
)
from service.personnel import certificates, imports, services
from service.personnel.models import (
    BackgroundCheck,
    BarLift,
    Certificate,
    CheckImportJob,
    ConsentDocument,
    lift_status,
)
from service.personnel.rules import bar_lift_in_force
from service.web.idempotency import encode_json


def person_out(view: services.PersonView) -> PersonOut:
    person, clearance = view.person, view.clearance
    return PersonOut(
        person_id=person.id,
        id_number_masked=person.id_number_masked,
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
        clearance=clearance.status,
        cleared_until=clearance.cleared_until,
        checks=[
            CheckStatusOut(
                check_type=c.check_type,
                status=c.public_status,
                mandatory=c.mandatory,
                valid_until=c.valid_until if c.public_status in ("present", "expired") else None,
                expiring=c.expiring,
            )
            for c in clearance.checks
        ],
        engagements=[
            EngagementOut(
                engagement_id=e.id,
                vendor_id=v.id,
                vendor_name=v.name,
                role=e.role,
                phone=e.phone,
                start_date=e.start_date,
                end_date=e.end_date,
                current=e.ended_at is None,
            )
            for e, v in view.engagements
        ],
        created_at=person.created_at,
    )


def roster_item(entry: services.RosterEntry) -> RosterItem:
    person, engagement, clearance = entry.person, entry.engagement, entry.clearance
    return RosterItem(
        person_id=person.id,
        engagement_id=engagement.id,
        id_number_masked=person.id_number_masked,
        name=person.name,
        role=engagement.role,
        start_date=engagement.start_date,
        clearance=clearance.status,
        cleared_until=clearance.cleared_until,
        missing_checks=clearance.missing(),
        expiring_checks=clearance.expiring(),
        expired_checks=clearance.expired(),
    )


def check_out(check: BackgroundCheck) -> CheckOut:
    return CheckOut(
        id=check.id,
        person_id=check.person_id,
        check_type=check.check_type,
        result=check.result,
        query_date=check.query_date,
        reference=check.reference,
        issuing_authority=check.issuing_authority,
        valid_until=check.valid_until,
        consent_document_id=check.consent_document_id,
        import_id=check.import_id,
        recorded_at=check.recorded_at,
    )


def consent_out(consent: ConsentDocument) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        kind=consent.kind,
        person_id=consent.person_id,
        region_code=consent.region_code,
        title=consent.title,
        signed_on=consent.signed_on,
        sha256=consent.sha256,
        size=consent.size,
        content_type=consent.content_type,
        filename=consent.filename,
        uploaded_at=consent.uploaded_at,
    )


def certificate_out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        id=certificate.id,
        person_id=certificate.person_id,
        cert_type=certificate.cert_type,
        number=certificate.number,
        issuer=certificate.issuer,
        category_codes=list(certificate.category_codes),
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        sha256=certificate.sha256,
        size=certificate.size,
        content_type=certificate.content_type,
        filename=certificate.filename,
        uploaded_at=certificate.uploaded_at,
        status=certificates.certificate_status(certificate),
    )


def lift_out(lift: BarLift) -> BarLiftOut:
    return BarLiftOut(
        id=lift.id,
        person_id=lift.person_id,
        check_id=lift.check_id,
        reason=lift.reason,
        requested_by=lift.requested_by,
        requested_at=lift.requested_at,
        confirmed_by=lift.confirmed_by,
        confirmed_at=lift.confirmed_at,
        effective=bar_lift_in_force(lift.confirmed_at, lift.closed_at),
        status=lift_status(lift),
        closed_by=lift.closed_by,
        closed_at=lift.closed_at,
        close_reason=lift.close_reason,
    )


def job_out(job: CheckImportJob) -> ImportJobOut:
    return ImportJobOut(
        job_id=job.id,
        state=job.state,
        filename=job.filename,
        rows_total=job.rows_total,
        rows_validated=job.rows_validated,
        rows_stored=job.rows_stored,
        imported=job.imported,
        skipped=job.skipped,
        errors_total=job.errors_total,
        errors=[
            ImportProblemOut(row=e["row"], column=e["column"], code=e["code"], message=e["message"]) for e in job.errors
        ],
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def encode_departure(ended: tuple) -> bytes:
    engagement, vendor = ended
    return encode_json(
        EngagementOut(
            engagement_id=engagement.id,
            vendor_id=vendor.id,
            vendor_name=vendor.name,
            role=engagement.role,
            phone=engagement.phone,
            start_date=engagement.start_date,
            end_date=engagement.end_date,
            current=False,
        )
    )


def encode_lift(lift: BarLift) -> bytes:
    return encode_json(lift_out(lift))


def encode_consent(consent: ConsentDocument) -> bytes:
    return encode_json(consent_out(consent))


def encode_import(result: imports.ImportResult) -> bytes:
    return encode_json(
        ImportOut(
            import_id=result.import_id,
            rows=result.rows,
            imported=result.imported,
            skipped=result.skipped,
            people_created=result.people_created,
            errors=[],
        )
    )
