"""The whitelist (白名单): service items admitted for the schools of a region."""

from service.whitelist.services import request_suspension

__all__ = ["request_suspension"]
