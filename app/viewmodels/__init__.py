"""What the windows show, computed from the gateway's status: plain data, no widgets."""
