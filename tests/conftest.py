"""Shared by all test folders: pytest puts this folder on sys.path, so `benchdata` imports."""
