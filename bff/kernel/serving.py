"""Several uvicorn workers, each with its own listening socket (``SO_REUSEPORT``).

With uvicorn's own ``--workers`` every worker accepts from one shared socket, and the
first to wake takes every connection waiting: a client that opens its keep-alive
connections at once (an app gateway, a load balancer, wrk) can land them all on one
worker while the others idle, and stay there: the home benchmark saw all 32 of wrk's
connections served by one of the 2 workers. With a socket per worker the kernel spreads
new connections over the workers by their addresses.

The supervisor restarts a worker that dies, stops them all on SIGINT or SIGTERM, and
exits with status 1 if a worker dies while starting.
Where ``SO_REUSEPORT`` is missing, uvicorn's own workers serve instead.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger(__name__)

GC_THRESHOLDS = (50_000, 10, 10)  # young, then Python's defaults for the older two
RESTART_PAUSE_SECONDS = 1.0
# A worker that exits with an error this soon after it started cannot start (bad key,
# bad URL): stop with its error instead of restarting it forever.
STARTUP_SECONDS = 10.0
STOP_GRACE_SECONDS = 30.0


def serve(app: str, host: str, port: int, workers: int, **uvicorn_options: Any) -> None:
    """Serve the ASGI ``app`` ("module:attribute") on ``host:port`` with ``workers``."""
    import uvicorn

    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **uvicorn_options)
        return
    Supervisor(app, host, port, workers, uvicorn_options).run()


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_worker(app: str, host: str, port: int, uvicorn_options: dict[str, Any]) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            settle_garbage_collector()

    sock = listening_socket(host, port)
    config = uvicorn.Config(app, host=host, port=port, **uvicorn_options)
    Server(config).run(sockets=[sock])


def settle_garbage_collector() -> None:
    """Collect rarely, and never walk what startup made.

    A home request makes thousands of short-lived containers; with Python's default
    threshold (a young collection every 700) the collector walked the objects of every
    request in flight many times over, and promoted them to older generations to be
    walked again: a good part of a worker's CPU under load (bench/home.py, against a
    run with the collector off). Collecting rarely finds most of them freed already.
    What exists once the app has started (modules, the schema, settings) lives as long
    as the process, so it is frozen out of every collection.

    The rarer the collections, the longer each one: a request must leave nothing in
    reference cycles (tests/home/test_home.py). When each home request left its objects
    to the collector, each young collection paused the worker with every request in
    flight, which was most of the benchmark's p99.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Supervisor:
    def __init__(
        self, app: str, host: str, port: int, workers: int, uvicorn_options: dict[str, Any]
    ) -> None:
        self.target = (app, host, port, uvicorn_options)
        self.count = workers
        self.workers: list[BaseProcess] = []
        self.started: dict[int, float] = {}
        self.stopping = False
        self.failed = False
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> None:
        # Bind once here first: a port in use fails now, with one clear error.
        listening_socket(*self.target[1:3]).close()
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self.workers = [self._start() for _ in range(self.count)]
        log.info("serving on %s:%s with %d workers", self.target[1], self.target[2], self.count)
        while not self.stopping:
            time.sleep(0.5)
            self._restart_dead()
        self._stop_all()
        if self.failed:
            raise SystemExit(1)

    def _start(self) -> BaseProcess:
        worker = self._context.Process(target=run_worker, args=self.target, daemon=False)
        worker.start()
        self.started[id(worker)] = time.monotonic()
        return worker

    def _restart_dead(self) -> None:
        for index, worker in enumerate(self.workers):
            if worker.exitcode is None or self.stopping:
                continue
            exited_early = time.monotonic() - self.started[id(worker)] < STARTUP_SECONDS
            if exited_early and worker.exitcode > 0:  # its own error, not a signal
                log.error(
                    "worker %s could not start (exit %s); stopping", worker.pid, worker.exitcode
                )
                self.stopping = self.failed = True
            else:
                log.error("worker %s exited with %s; starting another", worker.pid, worker.exitcode)
                time.sleep(RESTART_PAUSE_SECONDS)
                self.workers[index] = self._start()

    def _stop(self, *_args: object) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        for worker in self.workers:
            if worker.exitcode is None:
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.exitcode is None:
                worker.kill()
                worker.join()
