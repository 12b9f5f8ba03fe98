"""``kubectl nodeapp shell``: pod choice, the picker, terminal handling, attaching to exec."""
