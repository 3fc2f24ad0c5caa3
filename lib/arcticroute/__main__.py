"""``python -m arcticroute <command> [options]``: the same dispatcher as the ``arcticroute`` script."""

from arcticroute.console import main

if __name__ == "__main__":
    main(prog_name="arcticroute")
