"""``python -m planner.cli`` is ``planner``."""

from planner.__main__ import run

if __name__ == "__main__":
    run()
