"""The command-line face: argument parsing, the runner, one small module per command."""
