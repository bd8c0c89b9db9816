"""Reverse ETL: what the warehouse knows, pushed to the write-only vendors (Improvely, ConvertLoop)."""
