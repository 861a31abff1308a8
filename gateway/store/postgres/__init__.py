"""The PostgreSQL back end of the storage seam, for several gateways sharing one team's state."""
