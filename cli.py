"""Run the planner from a checkout: ``python cli.py solve`` is ``planner solve``."""

from planner.__main__ import run

if __name__ == "__main__":
    run()
