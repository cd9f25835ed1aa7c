"""User administration (admin pages and `flask users ...`)."""
