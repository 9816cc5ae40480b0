"""The energy meter: windows over cumulative energy counters from every source found."""
