"""The way in: the STEPS over one mail (pipeline), the poll cycle, import sources, prefetch."""
