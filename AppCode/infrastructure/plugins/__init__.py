"""Finding plugins: the built-ins, installed distributions' entry points, and the data directory."""
