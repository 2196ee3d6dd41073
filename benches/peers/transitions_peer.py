"""The peer the memory year is compared with: a pure-Python state machine (the `transitions`
library) driving the same number of dossiers through a one-stop lifecycle of 8 to 11
transitions, no persistence, each transition appended to an in-memory log.

The lifecycle (every dossier): submit, accept, assign, start_step, complete_step, approve,
sign, return_result (8); an inter-agency dossier (30 %) forwards to a second agency and
completes there (+2); one in twenty is asked for a supplement and supplies it (+2, at most 11
in all: a supplemented dossier is never inter-agency). Shares come from a seeded generator, so
every run drives the same transitions.

Usage: python3 transitions_peer.py [DOSSIERS]   (default 328508, the seed year)
Prints one JSON line: dossiers, transitions, seconds (the driving loop only).
"""

import json
import random
import sys
import time

from transitions import Machine

STATES = [
    "new",
    "submitted",
    "received",
    "assigned",
    "processing",
    "forwarded",
    "supplement_requested",
    "step_done",
    "approved",
    "signed",
    "returned",
]

TRANSITIONS = [
    {"trigger": "submit", "source": "new", "dest": "submitted"},
    {"trigger": "accept", "source": "submitted", "dest": "received"},
    {"trigger": "assign", "source": "received", "dest": "assigned"},
    {"trigger": "start_step", "source": "assigned", "dest": "processing"},
    {"trigger": "request_supplement", "source": "processing", "dest": "supplement_requested"},
    {"trigger": "supply", "source": "supplement_requested", "dest": "processing"},
    {"trigger": "forward", "source": "processing", "dest": "forwarded"},
    {"trigger": "complete_forwarded", "source": "forwarded", "dest": "processing"},
    {"trigger": "complete_step", "source": "processing", "dest": "step_done"},
    {"trigger": "approve", "source": "step_done", "dest": "approved"},
    {"trigger": "sign", "source": "approved", "dest": "signed"},
    {"trigger": "return_result", "source": "signed", "dest": "returned"},
]


class Dossier:
    """One dossier: its code and the log its transitions append to."""

    def __init__(self, code, log):
        self.code = code
        self.log = log

    def on_enter_state(self, event):
        self.log.append((self.code, event.event.name, self.state))


def lifecycle(rng):
    """The triggers of one dossier, in order."""
    steps = ["submit", "accept", "assign", "start_step"]
    if rng.random() < 0.05:
        steps += ["request_supplement", "supply"]
    elif rng.random() < 0.30:
        steps += ["forward", "complete_forwarded"]
    return steps + ["complete_step", "approve", "sign", "return_result"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 328508
    rng = random.Random(1)
    plans = [lifecycle(rng) for _ in range(n)]
    machine = Machine(model=None, states=STATES, transitions=TRANSITIONS, initial="new",
                      auto_transitions=False, send_event=True,
                      after_state_change="on_enter_state")
    log = []
    started = time.perf_counter()
    for i, triggers in enumerate(plans):
        dossier = Dossier(i, log)
        machine.add_model(dossier)
        for trigger in triggers:
            getattr(dossier, trigger)()
        machine.remove_model(dossier)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": "transitions 0.9.2", "dossiers": n, "transitions": len(log),
                      "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
