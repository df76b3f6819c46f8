"""The trace oracle: judging a trace's observations against the model (``check-trace``).

``reference`` replays a trace through the model; ``fast`` judges long traces in flat memory and
hands any divergence to the reference. Imports the model, the rules and ``traces``.
"""
