"""Attribution algorithms as plain functions (used by the dbt Python models and tested on their own)."""
