"""Settings: their types, loading them from the TOML file and the environment, and editing the file with its comments kept."""
