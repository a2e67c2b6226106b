"""One module per command family; each has register(cli) to attach its commands."""
