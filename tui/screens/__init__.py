"""The console's screens, one a file, with their CSS beside them."""
