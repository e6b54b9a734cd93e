"""The static HTML report written after each run (plotly, self-contained)."""
