"""Entry applications (入驻申请): a vendor's service items through review to the whitelist."""
