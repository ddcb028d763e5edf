"""A clock that moves only when told: injected into the App (`App.build(clock=...)`),
it lets the demo, the simulation and the tests pass a day in no time."""

from datetime import datetime, timedelta


class Clock:
    """The time the desk sees; `advance` moves it forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
