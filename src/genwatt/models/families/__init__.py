"""One module per architecture family: its real entries, their tiny form, their defaults."""
