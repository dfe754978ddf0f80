"""The guards of a public Space: what reaches the app's handlers, and what one client may cost everyone else."""
