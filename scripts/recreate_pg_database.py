"""Drop and create the PostgreSQL database named in a DATABASE_URL (for a clean test run)."""
import sys

import psycopg
from sqlalchemy.engine import make_url

url = make_url(sys.argv[1])
admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
with psycopg.connect(admin, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{url.database}"')
print(f"recreated database {url.database}")
