"""The whitelist (白名单): service items admitted for the schools of a region."""
