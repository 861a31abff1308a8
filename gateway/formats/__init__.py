"""Pure codecs for each wire protocol: bytes and dicts in, bytes and dicts out. No I/O, no clock."""
