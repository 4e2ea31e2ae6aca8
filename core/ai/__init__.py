"""The AI worker and its models (issue #12); core/ai/ports.py is the contract between the parts.

Set here, before any model library loads: OMP_WAIT_POLICY=PASSIVE, unless the user chose a policy.
CTranslate2 (Whisper) and torch each bundle libgomp, whose idle threads spin by default. The worker
runs a model on whichever pool thread is free (asyncio.to_thread), each calling thread gets its own
OpenMP team, and the idle teams spin against the busy one: on this 2-core machine Whisper tiny.en took
4-8x its single-thread time inside the orchestrator (bench/ai.py's "in O" column), and SmolLM2 ~1.5x.
libgomp reads the variable when it is loaded, and every runner's import goes through this package.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
