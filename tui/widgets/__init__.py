"""The console's widgets and small modals, one concern a file."""
