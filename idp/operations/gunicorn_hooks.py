"""gunicorn settings ``idp serve`` loads (``--config python:idp.operations.gunicorn_hooks``): a worker that exits
leaves prometheus_client's multiprocess files in a state the next scrape reads correctly."""
from prometheus_client import multiprocess


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
