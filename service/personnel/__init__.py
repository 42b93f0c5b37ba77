"""Personnel vetting: people, engagements, certificates, background checks, clearance."""
