"""The hotline: escalations (cases), the queue's order, staff alerts. Domain code here imports no
framework; bot/storage/hotline_store.py keeps it in SQL."""
