"""``python -m planner`` is ``planner``."""


def run() -> None:
    """The program (``python -m planner``, the ``planner`` script, ``python cli.py``): a signal while the command
    line is imported ends it with its one line too."""
    from planner.interrupt import end_at_once_until_handled

    end_at_once_until_handled()
    from planner.cli import main

    main()


if __name__ == "__main__":
    run()
