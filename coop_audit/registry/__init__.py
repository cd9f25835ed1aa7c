"""The cooperative register: reading, normalising, importing and exporting it."""
