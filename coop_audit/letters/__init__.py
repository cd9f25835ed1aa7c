"""Official letters: formatting, PDF rendering and merging (issue 6)."""
