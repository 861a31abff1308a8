"""Settings: their types (settings), loading them from the TOML file and the environment (loading,
with providers for each provider's and table for reading one TOML table), and editing the file with its
comments kept (editing)."""
