"""``python -m gateway``: the headless command line."""

from gateway.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
