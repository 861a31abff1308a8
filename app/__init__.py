"""Switchboard's tray app: the gateway on a thread of its own, and the windows to run it from.

It uses only the gateway's public surface (``import gateway``), never a module inside it.
"""
