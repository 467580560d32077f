"""The benchmarks' WSGI entry point: the app with the baseline endpoint (`gunicorn bench.wsgi_bench:app`)."""
from bench.baseline import create_app_with_baseline

app = create_app_with_baseline()
