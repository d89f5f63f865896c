"""A reporter that records what the bulk runner tells it."""

import threading


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self._add(('start', str(total)))

    def note(self, host: str, message: str) -> None:
        self._add(('note', host, message))

    def finished(self, host: str, ok: bool, message: str,
                 duration: float) -> None:
        self._add(('finished', host, 'ok' if ok else 'failed', message))

    def close(self) -> None:
        self._add(('close',))

    def finish_order(self) -> list[str]:
        return [e[1] for e in self.events if e[0] == 'finished']

    def _add(self, event: tuple[str, ...]) -> None:
        with self._lock:
            self.events.append(event)
