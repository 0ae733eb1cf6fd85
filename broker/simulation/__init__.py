"""The simulation wing: the upstream simulators' frame, the synthetic population and the
providers' simulators. A worker process never imports it (a test checks ``sys.modules``).
"""

from ..kit import Answer
from ._frame import (
    Case,
    Faults,
    SimulatorContext,
    build_app,
    case_answers,
    default_cases_dirs,
    france_connect_cases_dirs,
    load_cases,
    respond,
    serve,
    shared_dir,
)
from ._population import Person, Population
from ._providers import SimulatorBuilder, context, serve_simulators, simulators

__all__ = [
    "Answer",
    "Case",
    "Faults",
    "Person",
    "Population",
    "SimulatorBuilder",
    "SimulatorContext",
    "build_app",
    "case_answers",
    "context",
    "default_cases_dirs",
    "france_connect_cases_dirs",
    "load_cases",
    "respond",
    "serve",
    "serve_simulators",
    "shared_dir",
    "simulators",
]
