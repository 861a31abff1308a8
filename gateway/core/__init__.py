"""Protocol-neutral types shared by every layer. No I/O here."""
