"""The HTTP edge: access rules, errors, request ids, dependencies. Litestar lives here,
in the controllers and in service/app.py, and nowhere else."""
