"""Running the gateway: wiring the parts, binding and serving, draining, housekeeping, logs and the process tuning."""
