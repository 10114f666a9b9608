"""Fix-rate evaluation on benchmark task folders: pass@1 and pass@k, with and without the trace."""
