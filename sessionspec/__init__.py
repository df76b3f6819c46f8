"""sessionspec: the executable, model-checked specification of Qiskit Runtime sessions.

Everything installs under this one name. The layers run one way, each importing only those
before it:

1. ``sessionspec.model``: the declared Session and Job machines and the one transition
   function over a world (the repository's ``model/`` folder);
2. ``sessionspec.invariants``: every documented rule as a checkable object (``invariants/``);
   beside it ``sessionspec.traces`` (the trace format) and ``sessionspec.mutants`` (named broken
   variants of the model, which every engine must catch);
3. the engines: ``oracle`` (check-trace), ``exploration`` (Hypothesis), ``explorer`` (the
   exhaustive search), ``pictures`` (diagrams and timelines), ``conformance`` (the suite,
   ``serve``, the adapter, the pytest plugin);
4. ``sessionspec.cli`` (the command line) and ``sessionspec.bench`` (the benchmarks).
"""

__version__ = "0.1.0"
