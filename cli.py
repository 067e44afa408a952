"""Run the planner from a checkout: ``python cli.py solve`` is ``planner solve``."""

from planner.cli import main

if __name__ == "__main__":
    main()
