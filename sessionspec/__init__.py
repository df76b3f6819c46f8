"""sessionspec: the executable, model-checked specification of Qiskit Runtime sessions.

The model lives in the ``model`` package, the rule catalogue in ``invariants``; this
package holds the exploration, the mutants and the command line.
"""

__version__ = "0.1.0"
