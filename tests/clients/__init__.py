"""The real client programs people point at Switchboard, installed from their registries at the
versions ``package.json``/``package-lock.json`` and ``requirements.txt`` pin (scripts/clients.sh),
driven non-interactively against a gateway in front of scripted fakes of every kind of upstream.

``harness`` runs a program (isolated home, bounded time) and sees every answer the gateway gives;
``adapters`` knows each client: how to point it at the gateway, run it and read its answer;
``programs/`` holds the small scripts that drive the SDK clients.
"""
